"""The printed plans of operations using @defer (Apollo's layout: Defer { Primary,
[Deferred(depends, path, label)] }), on the entity-lists-batching scenario's supergraph."""

from __future__ import annotations

from textwrap import dedent

import pytest

from router.core import Router
from tests.router.conftest import scenario


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.from_supergraph(scenario("entity-lists-batching").supergraph)


def test_same_subgraph(router: Router) -> None:
    """A deferred field of the same subgraph: an entity fetch of its own,
    after the primary."""
    query = "{ catalog { id ... @defer { name } } }"
    expected = dedent(
        """\
        QueryPlan {
          Defer {
            Primary {
              {
                catalog {
                  id
                }
              }:
              Fetch(service: "catalog") {
                {
                  catalog {
                    id
                    __typename
                  }
                }
              }
            }, [
              Deferred(depends: [0], path: "catalog.@") {
                {
                  ... on Product {
                    name
                  }
                }:
                Flatten(path: "catalog.@") {
                  Fetch(service: "catalog") {
                    {
                      ... on Product {
                        __typename
                        id
                      }
                    } =>
                    query($representations: [_Any!]!) {
                      _entities(representations: $representations) {
                        ... on Product {
                          name
                        }
                      }
                    }
                  }
                }
              },
            ]
          }
        }
        """
    )
    assert router.plan_text(query) == expected.rstrip("\n")


def test_other_subgraph(router: Router) -> None:
    """A deferred field of another subgraph: the primary fetches the key and
    the deferred part jumps from it (no second catalog fetch)."""
    query = '{ catalog { name ... @defer(label: "price") { price } } }'
    expected = dedent(
        """\
        QueryPlan {
          Defer {
            Primary {
              {
                catalog {
                  name
                }
              }:
              Fetch(service: "catalog") {
                {
                  catalog {
                    name
                    id
                    __typename
                  }
                }
              }
            }, [
              Deferred(depends: [0], path: "catalog.@", label: "price") {
                {
                  ... on Product {
                    price
                  }
                }:
                Flatten(path: "catalog.@") {
                  Fetch(service: "pricing") {
                    {
                      ... on Product {
                        __typename
                        id
                      }
                    } =>
                    query($representations: [_Any!]!) {
                      _entities(representations: $representations) {
                        ... on Product {
                          price
                        }
                      }
                    }
                  }
                }
              },
            ]
          }
        }
        """
    )
    assert router.plan_text(query) == expected.rstrip("\n")


def test_nested(router: Router) -> None:
    """A fragment deferred inside a deferred one depends on its parent's fetch."""
    query = (
        '{ catalog { id ... @defer(label: "outer") { price related { id ... '
        '@defer(label: "inner") { inStock } } } } }'
    )
    expected = dedent(
        """\
        QueryPlan {
          Defer {
            Primary {
              {
                catalog {
                  id
                }
              }:
              Fetch(service: "catalog") {
                {
                  catalog {
                    id
                    __typename
                  }
                }
              }
            }, [
              Deferred(depends: [0], path: "catalog.@", label: "outer") {
                {
                  ... on Product {
                    price
                    related {
                      id
                    }
                  }
                }:
                Flatten(path: "catalog.@") {
                  Fetch(service: "pricing") {
                    {
                      ... on Product {
                        __typename
                        id
                      }
                    } =>
                    query($representations: [_Any!]!) {
                      _entities(representations: $representations) {
                        ... on Product {
                          price
                          related {
                            id
                            __typename
                          }
                        }
                      }
                    }
                  }
                }
              },
              Deferred(depends: [2], path: "catalog.@.related.@", label: "inner") {
                {
                  ... on Product {
                    inStock
                  }
                }:
                Flatten(path: "catalog.@.related.@") {
                  Fetch(service: "stock") {
                    {
                      ... on Product {
                        __typename
                        id
                      }
                    } =>
                    query($representations: [_Any!]!) {
                      _entities(representations: $representations) {
                        ... on Product {
                          inStock
                        }
                      }
                    }
                  }
                }
              },
            ]
          }
        }
        """
    )
    assert router.plan_text(query) == expected.rstrip("\n")


def test_list_of_lists(router: Router) -> None:
    """Deferred inside a list of lists: the path walks both levels."""
    query = "{ grid { id ... @defer { inStock } } }"
    expected = dedent(
        """\
        QueryPlan {
          Defer {
            Primary {
              {
                grid {
                  id
                }
              }:
              Fetch(service: "catalog") {
                {
                  grid {
                    id
                    __typename
                  }
                }
              }
            }, [
              Deferred(depends: [0], path: "grid.@.@") {
                {
                  ... on Product {
                    inStock
                  }
                }:
                Flatten(path: "grid.@.@") {
                  Fetch(service: "stock") {
                    {
                      ... on Product {
                        __typename
                        id
                      }
                    } =>
                    query($representations: [_Any!]!) {
                      _entities(representations: $representations) {
                        ... on Product {
                          inStock
                        }
                      }
                    }
                  }
                }
              },
            ]
          }
        }
        """
    )
    assert router.plan_text(query) == expected.rstrip("\n")


def test_if_variable(router: Router) -> None:
    """@defer(if: $var): both plans, chosen by a Condition on the variable."""
    query = "query Q($d: Boolean!) { catalog { id ... @defer(if: $d) { price } } }"
    expected = dedent(
        """\
        QueryPlan {
          Condition(if: $d) {
            Include {
              Defer {
                Primary {
                  {
                    catalog {
                      id
                    }
                  }:
                  Fetch(service: "catalog") {
                    query Q__catalog__0 {
                      catalog {
                        id
                        __typename
                      }
                    }
                  }
                }, [
                  Deferred(depends: [0], path: "catalog.@") {
                    {
                      ... on Product {
                        price
                      }
                    }:
                    Flatten(path: "catalog.@") {
                      Fetch(service: "pricing") {
                        {
                          ... on Product {
                            __typename
                            id
                          }
                        } =>
                        query Q__pricing__2($representations: [_Any!]!) {
                          _entities(representations: $representations) {
                            ... on Product {
                              price
                            }
                          }
                        }
                      }
                    }
                  },
                ]
              }
            }
            Skip {
              Sequence {
                Fetch(service: "catalog") {
                  query Q__catalog__0 {
                    catalog {
                      id
                      __typename
                    }
                  }
                },
                Flatten(path: "catalog.@") {
                  Fetch(service: "pricing") {
                    {
                      ... on Product {
                        __typename
                        id
                      }
                    } =>
                    query Q__pricing__1($representations: [_Any!]!) {
                      _entities(representations: $representations) {
                        ... on Product {
                          price
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
        """
    )
    assert router.plan_text(query) == expected.rstrip("\n")


def test_root_and_fragment_label(router: Router) -> None:
    """Deferred root fields get their own root fetch (depending on nothing);
    a labelled fragment spread."""
    query = (
        '{ categories { name } ... @defer(label: "best") { bestsellers { id '
        '...P @defer(label: "p") } } } fragment P on Product { price }'
    )
    expected = dedent(
        """\
        QueryPlan {
          Defer {
            Primary {
              {
                categories {
                  name
                }
              }:
              Fetch(service: "catalog") {
                {
                  categories {
                    name
                  }
                }
              }
            }, [
              Deferred(depends: [], path: "", label: "best") {
                {
                  ... on Query {
                    bestsellers {
                      id
                    }
                  }
                }:
                Fetch(service: "catalog") {
                  {
                    bestsellers {
                      id
                      __typename
                    }
                  }
                }
              },
              Deferred(depends: [1], path: "bestsellers.@", label: "p") {
                {
                  ... on Product {
                    price
                  }
                }:
                Flatten(path: "bestsellers.@") {
                  Fetch(service: "pricing") {
                    {
                      ... on Product {
                        __typename
                        id
                      }
                    } =>
                    query($representations: [_Any!]!) {
                      _entities(representations: $representations) {
                        ... on Product {
                          price
                        }
                      }
                    }
                  }
                }
              },
            ]
          }
        }
        """
    )
    assert router.plan_text(query) == expected.rstrip("\n")


def test_no_entity_fetched_with_its_parent(router: Router) -> None:
    """A fragment on a type with no key (Category) cannot be fetched on its own: its
    fields ride in the primary fetch, and the deferred part has no fetch of its own."""
    query = '{ categories { name ... @defer(label: "p") { products { id } } } }'
    expected = dedent(
        """\
        QueryPlan {
          Defer {
            Primary {
              {
                categories {
                  name
                }
              }:
              Fetch(service: "catalog") {
                {
                  categories {
                    name
                    products {
                      id
                    }
                  }
                }
              }
            }, [
              Deferred(depends: [0], path: "categories.@", label: "p") {
                {
                  ... on Category {
                    products {
                      id
                    }
                  }
                }
              },
            ]
          }
        }
        """
    )
    assert router.plan_text(query) == expected.rstrip("\n")


def test_other_subgraph_beside_a_refetch(router: Router) -> None:
    """A deferred fragment with fields of its own subgraph and of another: the other
    subgraph's fetch jumps from the primary's key, in parallel with the refetch (it does
    not wait for it)."""
    query = '{ catalog { id ... @defer(label: "a") { name price } } }'
    expected = dedent(
        """\
        QueryPlan {
          Defer {
            Primary {
              {
                catalog {
                  id
                }
              }:
              Fetch(service: "catalog") {
                {
                  catalog {
                    id
                    __typename
                  }
                }
              }
            }, [
              Deferred(depends: [0], path: "catalog.@", label: "a") {
                {
                  ... on Product {
                    name
                    price
                  }
                }:
                Parallel {
                  Flatten(path: "catalog.@") {
                    Fetch(service: "catalog") {
                      {
                        ... on Product {
                          __typename
                          id
                        }
                      } =>
                      query($representations: [_Any!]!) {
                        _entities(representations: $representations) {
                          ... on Product {
                            name
                          }
                        }
                      }
                    }
                  },
                  Flatten(path: "catalog.@") {
                    Fetch(service: "pricing") {
                      {
                        ... on Product {
                          __typename
                          id
                        }
                      } =>
                      query($representations: [_Any!]!) {
                        _entities(representations: $representations) {
                          ... on Product {
                            price
                          }
                        }
                      }
                    }
                  }
                }
              },
            ]
          }
        }
        """
    )
    assert router.plan_text(query) == expected.rstrip("\n")
