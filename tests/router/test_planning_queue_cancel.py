"""The planning queue's wait: a cancelled waiter stops, a timed-out one is a 503, and
neither takes the job away from the other requests waiting for it.

The first test is the regression for CPython gh-86296: on Python 3.11 `asyncio.wait_for`
returned the result of a future that completed in the loop step where its caller was
cancelled, so a request whose client had gone carried on. The cancellation is made to land
in exactly that step: a done-callback on the job's future, registered after the waiter's,
cancels the waiter while the planner thread's answer is being handed over.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from router.errors import RequestError
from router.planning_queue import PlanningQueue


class _Job:
    """A preparation held on the planner thread until the test releases it."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> str:
        self.started.set()
        self.release.wait(30)
        return self.answer


async def _wait_then_note(
    queue: PlanningQueue, pending: asyncio.Future[str], out: list[str]
) -> str:
    """A request's part after its plan: it notes that it carried on."""
    plan = await queue.wait(pending)
    out.append(f"carried on with {plan}")
    await asyncio.sleep(0)  # a further step: a cancel still pending would land here
    out.append("finished")
    return plan


async def test_a_cancel_landing_as_the_plan_is_delivered_is_honoured() -> None:
    queue = PlanningQueue(max_waiting=4, max_wait=30)
    job = _Job("plan")
    pending = queue.start(1, job)
    carried: list[str] = []
    waiter = asyncio.create_task(_wait_then_note(queue, pending, carried))
    await asyncio.sleep(0)  # the waiter is now awaiting (its shield's callback registered)
    pending.add_done_callback(lambda _: waiter.cancel())  # runs right after the shield's
    job.release.set()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    queue.close()
    assert carried == []
    assert waiter.cancelled()
    assert pending.result() == "plan"  # the job itself ran to its end for the others


async def test_a_cancelled_waiter_leaves_the_job_to_the_others() -> None:
    queue = PlanningQueue(max_waiting=4, max_wait=30)
    job = _Job("plan")
    pending = queue.start(1, job)
    gone = asyncio.create_task(queue.wait(pending))
    stays = asyncio.create_task(queue.wait(pending))
    await asyncio.to_thread(job.started.wait, 30)
    gone.cancel()
    await asyncio.gather(gone, return_exceptions=True)
    job.release.set()
    answer = await stays
    queue.close()
    assert gone.cancelled()
    assert not pending.cancelled()
    assert answer == "plan"


async def test_a_waiter_past_max_wait_is_a_503_and_the_job_goes_on() -> None:
    queue = PlanningQueue(max_waiting=4, max_wait=0.05)
    job = _Job("plan")
    pending = queue.start(1, job)
    with pytest.raises(RequestError) as refused:
        await queue.wait(pending)
    job.release.set()
    answer = await asyncio.wait_for(asyncio.shield(pending), 30)
    queue.close()
    assert refused.value.status == 503
    assert [e["extensions"] for e in refused.value.errors] == [{"code": "PLANNER_BUSY"}]
    assert answer == "plan"


async def test_a_plan_already_made_is_returned_without_waiting() -> None:
    queue = PlanningQueue(max_waiting=4, max_wait=30)
    job = _Job("plan")
    job.release.set()
    pending = queue.start(1, job)
    first = await queue.wait(pending)
    again = await queue.wait(pending)
    queue.close()
    assert (first, again) == ("plan", "plan")
