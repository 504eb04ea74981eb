"""A rental fleet: cars and trucks are owned by fleet, bikes exist only in rentals.

fleet's `Vehicle` interface has `name`, rentals' has `dailyRateCents`, and in
rentals `Truck` does not even implement `Vehicle`.
"""

from tests.conformance.kit import Resolvers

FLEET = {
    "car-1": {"__typename": "Car", "name": "Clio", "seats": 5},
    "trk-1": {"__typename": "Truck", "name": "Sprinter", "payloadKg": 1400},
    "car-2": {"__typename": "Car", "name": "Model 3", "seats": 5},
}
RATES = {"car-1": 3900, "car-2": 7900, "trk-1": 11900, "bike-1": 1500, "bike-2": 2500}
BIKES = {"bike-1": ("City bike", False), "bike-2": ("Cargo e-bike", True)}
STATIONS = {"central": ["car-2", "bike-1", "bike-2"], "airport": ["car-1"]}


def _fleet(vehicle_id: str) -> dict | None:
    row = FLEET.get(vehicle_id)
    return row and {"id": vehicle_id, **row}


def _rental(vehicle_id: str) -> dict | None:
    if vehicle_id in BIKES:
        name, electric = BIKES[vehicle_id]
        return {"__typename": "Bike", "id": vehicle_id, "name": name, "electric": electric,
                "dailyRateCents": RATES[vehicle_id]}
    if vehicle_id in FLEET:
        return {"__typename": FLEET[vehicle_id]["__typename"], "id": vehicle_id,
                "dailyRateCents": RATES[vehicle_id]}
    return None


SUBGRAPHS = {
    "fleet": Resolvers(
        query={"vehicles": lambda info: [_fleet(key) for key in FLEET]},
        entities={"Car": lambda rep: _fleet(rep["id"]), "Truck": lambda rep: _fleet(rep["id"])},
    ),
    "rentals": Resolvers(
        query={"available": lambda info, station: [
            _rental(key) for key in STATIONS.get(station, [])
        ]},
        entities={
            "Car": lambda rep: _rental(rep["id"]),
            "Bike": lambda rep: _rental(rep["id"]),
            "Truck": lambda rep: _rental(rep["id"]),
        },
    ),
}
