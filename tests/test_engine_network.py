"""The network's flow tables: what each column makes or carries, with the origin rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rareflow.data.loader import load_world
from rareflow.engine.network import Network, build_network, origin_tag
from rareflow.model.world import World
from rareflow.testing import random_world


def _worlds() -> list[World]:
    return [load_world(), random_world(3, 4, 3, 3), random_world(8, 4, 3, 3)]


def test_origin_rule_tags_material_handled_in_china() -> None:
    region = pd.Series(["CHN", "USA", "CHN", "AUS"])
    carried = pd.Series(["other", "china", "china", "other"])
    assert origin_tag(region, "CHN").tolist() == ["china", "other", "china", "other"]
    assert origin_tag(region, "CHN", carried).tolist() == ["china", "china", "china", "other"]


def _matrix_terms(net: Network, rows: str, family: str) -> pd.DataFrame:
    """Nonzero terms of the LP matrix between a row family and a column family."""
    block = net.lp.matrix_csr()[net.row(rows).ids][:, net.col(family).ids].tocoo()
    keys = net.row(rows).keys.iloc[block.row].reset_index(drop=True)
    return keys.assign(col=net.col(family).ids[block.col], coef=block.data)


@pytest.mark.parametrize("world", _worlds(), ids=["bundled", "random3", "random8"])
def test_outputs_are_what_the_balance_rows_receive(world: World) -> None:
    net = build_network(world)
    keys = ["region", "element", "origin", "grade"]
    for family, rows in (("separate", "oxide_balance"), ("metal_make", "metal_balance"),
                         ("recycle", "oxide_balance")):
        made = net.outputs.loc[net.outputs.family == family]
        on = keys if rows == "oxide_balance" else keys[:3]
        want = _matrix_terms(net, rows, family).sort_values(["col", *on])
        got = made[[*on, "col", "coef"]].sort_values(["col", *on])
        np.testing.assert_array_equal(got[[*on, "col"]].to_numpy(), want[[*on, "col"]].to_numpy())
        np.testing.assert_array_equal(got.coef.to_numpy(), want.coef.to_numpy())


@pytest.mark.parametrize("world", _worlds(), ids=["bundled", "random3", "random8"])
def test_flow_tables_follow_the_origin_rule(world: World) -> None:
    net = build_network(world)
    out = net.outputs
    assert (out.coef != 0).all() and (net.shipments.coef != 0).all()
    assert list(out.stage.drop_duplicates()) == [
        s for s in ("mining", "concentration", "separation", "metal", "magnet", "recycling")
        if s in set(out.stage)]
    # Anything made in China, except clean magnets (which are bounded to zero there), is tagged.
    made_in_china = out.loc[(out.region == net.china) & (out.stage != "magnet")]
    assert (made_in_china.origin == "china").all()
    # Separated oxide of Chinese ore is China-origin wherever it is separated.
    deposits = net.shares.drop_duplicates("deposit").set_index("deposit").deposit_region
    sep = out.loc[out.family == "separate"].merge(
        net.col("separate").labelled("col")[["col", "deposit"]], on="col")
    assert (sep.loc[sep.deposit.map(deposits) == net.china].origin == "china").all()
    # Every ship column of an origin-keyed family keeps its key's tag.
    oxide = net.shipments.loc[net.shipments.family == "oxide_ship"]
    keyed = net.col("oxide_ship").labelled("col").set_index("col").origin
    assert (oxide.origin.to_numpy() == oxide.col.map(keyed).to_numpy()).all()
