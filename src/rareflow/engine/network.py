"""The supply network of a world as LP families: which flows can exist and how they balance.

Built once per world. Stages and products:

* ``mine`` (t REO of ore by deposit) → ``concentrate`` (same region; ore is not traded) →
  concentrate shipped by deposit (feed type) → ``separate`` into oxides by element, so that
  oxide output is ``Σ_feed input × element share × recovery`` (linear, no mixing);
* oxides carry an origin tag (``china`` when mined or processed in China) and a purity grade
  (``hi`` ≥ 99 %, else ``lo``); metal plants take ``hi`` oxide, oxide end uses take any;
  off-grade oxide reaches magnet grade only through a further refining step at a cost
  (``oxide_refine``, where separation plants are), else it goes to the lower (oxide) uses;
* ``metal_make`` reduces oxide to metal; ``magnet_make`` turns metal into magnets by recipe,
  split into *clean* magnets (origin ``other``: may draw only non-China metal) and *tainted*
  ones (origin ``china``: may draw any) so that de-minimis rules can act on the tainted part;
* magnets serve sector demand blocks (or a priced substitute); oxides serve oxide demand;
* magnet swarf and end-of-life scrap feed recyclers, whose oxide re-enters the oxide balance;
* a separation plant that separates only some elements (``elements`` in its record) puts the
  SEG+HRE ones it leaves (:data:`MIXED_HEAVY_ELEMENTS`) into a *mixed heavy concentrate*
  (``mixed_heavy_balance``), one product per feed deposit and cut (``mix``, fixed element
  shares), tagged with the origin its oxide would carry; it is shipped (``mixed_heavy_ship``),
  refined by plants that take it (``heavy_refine``, facilities with ``mixed_heavy_feed``) into the
  elements they separate, on their separation capacity, or left in the residue
  (``mixed_heavy_dispose``);
* demand is a stepped constant-elasticity curve per (region, sector[, element])
  (:mod:`rareflow.model.demand_curve`), ``demand_block``/``oxide_block`` holding its steps;
* buyers' and traders' inventories (``inventory_*``) in each region with oxide demand: the
  opening stock is offered to the market, the closing stock is bought back along a stock-demand
  curve around a target cover (:mod:`rareflow.engine.inventory`);
* every facility's activity beyond its normal share of capacity runs on a costlier *stretch*
  column (``stretch``, bounded by the ``normal_capacity`` rows): marginal cost rises toward
  nameplate;
* strategic stockpiles release or absorb oxide; surplus oxide is left in tailings;
* the rule of origin (``docs/reliance.md``). Every traded product has an origin: the country
  of its last substantial transformation (mining for concentrate, separation or recycling for
  oxide, reduction for metal, magnet making for magnets), and a China-content tag
  (``origin``: ``china`` when mined or processed in China, or made from such material; what
  the 0.1 % de-minimis rule reads). Both are kept through any re-export:

  - concentrate is shipped only from its mining country (``conc_ship`` keys), so its
    exporter is its origin;
  - metal and magnets are exported only by the region that made them (``reexport_*`` rows:
    exports of each element or grade and tag at most the region's own output of it), so
    their exporter is their origin. Declared trading hubs (``trade.reexport_hubs``, data with
    a source) are exempt (the rows are relaxed in ``set_year``); what a hub ships keeps its
    tag;
  - oxide may be re-exported (traders resell stocks), so its exporter is not always its
    origin; it keeps its China-content tag wherever it goes, and China-tagged oxide is
    Chinese origin (Chinese concentrate is not exported, so oxide separated abroad is never
    China-tagged by its feed; recycling abroad of China-tagged scrap is the one exception).

  Policies act on origin, not on route: tariffs on exports from China and sourcing caps
  count China-tagged oxide (and China-tagged metal and magnets from a hub) as Chinese on any
  route; export controls act on China's own exports and, with ``de_minimis``, on China-tagged
  material shipped from third countries; self-sufficiency and "allied" supply count only
  material not tagged ``china``.

What the flows carry is described once, as tables built with the network (see :class:`Network`):
``outputs`` says what each producing column makes and ``shipments`` what each ship column carries,
per element, in t REO, with the origin tag of :func:`origin_tag`. The LP's balance rows, the
result variables and the policy effects all read these tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rareflow.engine.lpcore import Family, LinearProgram
from rareflow.model.demand_curve import SEGMENTS
from rareflow.model.elements import DEPOSIT_CLASSES, ORIGINS
from rareflow.model.world import World

#: Share of metal lost as swarf (grinding and machining scrap) when making sintered NdFeB.
#: Assumption: industry yields of 70–80 % (Argus reports most recycled REO in China comes from
#: such swarf); 0.25 reproduces China's ≈ 34 kt REO recycled in 2024 with its magnet output.
SWARF_SHARE = 0.25
GRADES = ("hi", "lo")
HIGH_PURITY_PCT = 99.0
#: Elements a light-separation plant leaves in its heavy cut when it does not separate them:
#: samarium, europium and gadolinium (SEG, Eu and Gd in ``other_heavy``) and the heavy rare
#: earths with yttrium (HRE), sold or stockpiled as a mixed heavy concentrate (MP Materials'
#: "SEG+", Lynas's "SEGH"). Those of a world that tracks the rare earths one by one follow the
#: bundled worlds' five (this order names the mixes: :func:`mixed_heavy_elements`); Sc, which
#: no light-separation flowsheet recovers, stays in the heavy cut too.
MIXED_HEAVY_ELEMENTS = ("Sm", "Dy", "Tb", "Y", "other_heavy",
                        "Eu", "Gd", "Ho", "Er", "Tm", "Yb", "Lu", "Sc")


def mixed_heavy_elements(world: World) -> tuple[str, ...]:
    """The elements of :data:`MIXED_HEAVY_ELEMENTS` that ``world`` tracks, in that order."""
    return tuple(e for e in MIXED_HEAVY_ELEMENTS if e in world.elements)


#: The column family of each stage's facilities: what its capacity row bounds (t/y of activity).
STAGE_FAMILY = {"mining": "mine", "concentration": "concentrate", "separation": "separate",
                "metal": "metal_make", "magnet": "magnet_make", "recycling": "recycle"}
#: Ship column family of each traded product, the balance row family it moves between (out of
#: the exporter's node, into the importer's) and the keys the shipment keeps on the way.
SHIPPING: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "concentrate": ("conc_ship", "concentrate_balance", ("deposit",)),
    "oxide": ("oxide_ship", "oxide_balance", ("element", "origin", "grade")),
    "metal": ("metal_ship", "metal_balance", ("element", "origin")),
    "magnet": ("magnet_ship", "magnet_balance", ("grade_id", "origin")),
    "mixed_heavy": ("mixed_heavy_ship", "mixed_heavy_balance", ("mix", "origin")),
}
#: Ship column family of each traded product.
SHIP_FAMILY = {product: family for product, (family, _, _) in SHIPPING.items()}
#: Product of each production stage (what its output columns make).
STAGE_PRODUCT = {"mining": "ore", "concentration": "concentrate", "separation": "oxide",
                 "metal": "metal", "magnet": "magnet", "recycling": "oxide"}
#: Keys of the rule-of-origin rows of each product (besides the exporting region).
REEXPORT_KEYS: dict[str, tuple[str, ...]] = {
    "metal": ("element", "origin"),
    "magnet": ("grade_id", "origin"),
}
#: Row families of the rule of origin.
REEXPORT_ROWS = tuple(f"reexport_{product}" for product in REEXPORT_KEYS)
#: Columns of :attr:`Network.outputs`.
OUTPUT_COLUMNS = ["stage", "product", "family", "local", "col", "facility", "region", "element",
                  "origin", "grade", "grade_id", "coef"]
#: Columns of :attr:`Network.shipments`.
SHIPMENT_COLUMNS = ["product", "family", "local", "col", "exporter", "importer", "element",
                    "origin", "grade", "grade_id", "coef"]
#: Columns of :attr:`Network.mixed_heavy` (those of :attr:`Network.outputs` and the ``mix``).
MIXED_HEAVY_COLUMNS = [*OUTPUT_COLUMNS, "mix"]


@dataclass(frozen=True)
class Network:
    """World-derived tables and the LP families of the market (built once per world).

    ``outputs``: one row per producing column and element it makes, in stage order (mining,
    concentration, separation, metal, magnet, recycling): ``stage``, ``product`` (see
    :data:`STAGE_PRODUCT`), ``family``, ``local`` (position in the family), ``col`` (global
    id), ``facility`` ('' for concentrate passed on without a concentrator), ``region`` (where
    it is made), ``element``, ``origin`` (of the output, by :func:`origin_tag`), ``grade``
    (oxide purity, '' for other products), ``grade_id`` (magnet grade, '' otherwise) and
    ``coef``: t REO of the element made per unit of the column (nonzero).

    ``shipments``: one row per ship column and element it carries: ``product``, ``family``,
    ``local``, ``col``, ``exporter``, ``importer``, ``element``, ``origin``, ``grade``,
    ``grade_id`` and ``coef`` (t REO of the element per unit shipped: the deposit share for
    concentrate, the element's share of the mix for mixed heavy concentrate, the recipe content
    for magnets, 1 for oxide and metal; nonzero).

    ``mixed_heavy``: what the ``separate`` columns put into mixed heavy concentrate, one row per
    column and element, with the columns of ``outputs`` (``product`` = ``mixed_heavy``) and the
    ``mix`` it goes to. ``mixes``: the element shares of each mix (``mix``, ``deposit``,
    ``element``, ``share``; shares of a mix sum to 1).
    """

    world: World
    lp: LinearProgram
    facilities: pd.DataFrame
    shares: pd.DataFrame
    recipes: pd.DataFrame
    magnet_mix: pd.DataFrame
    china: str
    outputs: pd.DataFrame
    shipments: pd.DataFrame
    mixed_heavy: pd.DataFrame
    mixes: pd.DataFrame

    def col(self, name: str) -> Family:
        """The column family ``name``."""
        return self.lp.columns[name]

    def row(self, name: str) -> Family:
        """The row family ``name``."""
        return self.lp.rows[name]


def origin_tag(region: pd.Series, china: str,
               carried: pd.Series | np.ndarray | str = "other") -> np.ndarray:
    """The origin rule: ``china`` where ``region`` is China, else the tag the material carries.

    Material becomes China-origin when mined or processed in China and keeps its tag wherever
    it goes afterwards; freshly mined material elsewhere carries ``other``.
    """
    return np.where(region == china, "china", carried)


def _facility_table(world: World) -> pd.DataFrame:
    rows = [
        {
            "facility": f.id,
            "region": f.country,
            "stage": f.stage,
            "recovery": f.recovery,
            "unit_cost": f.unit_cost_usd_per_kg,
            "min_utilisation": f.min_utilisation,
            "grade": "hi" if (f.purity_pct or HIGH_PURITY_PCT) >= HIGH_PURITY_PCT else "lo",
            "deposit": f.deposit,
            "mixed_heavy_feed": f.mixed_heavy_feed,
        }
        for f in world.facilities
    ]
    return pd.DataFrame(rows)


def _share_table(world: World) -> pd.DataFrame:
    rows = [
        {"deposit": d.id, "deposit_region": d.country, "deposit_class": d.deposit_class,
         "element": e, "share": d.shares.get(e, 0.0)}
        for d in world.deposits
        for e in world.elements
    ]
    return pd.DataFrame(rows)


def _feed_table(world: World, stage: str) -> pd.DataFrame:
    """Which deposits each facility of ``stage`` can process (feeds name ids, classes or '*')."""
    by_class: dict[str, list[str]] = {
        c: [d.id for d in world.deposits if d.deposit_class == c] for c in DEPOSIT_CLASSES
    }
    all_ids = [d.id for d in world.deposits]
    rows = []
    for f in world.facilities:
        if f.stage != stage:
            continue
        accepted: set[str] = set()
        for feed in f.feeds:
            accepted |= set(all_ids) if feed == "*" else set(by_class.get(feed, [feed]))
        rows += [{"facility": f.id, "region": f.country, "deposit": d} for d in sorted(accepted)
                 if d in all_ids]
    return pd.DataFrame(rows, columns=["facility", "region", "deposit"])


def _element_table(world: World, stage: str, allowed: tuple[str, ...]) -> pd.DataFrame:
    rows = [
        {"facility": f.id, "region": f.country, "element": e}
        for f in world.facilities
        if f.stage == stage
        for e in (f.elements or allowed)
        if e in allowed
    ]
    return pd.DataFrame(rows, columns=["facility", "region", "element"])


def _cross(*tables: pd.DataFrame) -> pd.DataFrame:
    result = tables[0]
    for table in tables[1:]:
        result = result.merge(table, how="cross")
    return result


def _frame(**values: object) -> pd.DataFrame:
    return pd.DataFrame(values)


def _arcs(exporters: set[str], importers: set[str]) -> pd.DataFrame:
    pairs = [(a, b) for a in sorted(exporters) for b in sorted(importers) if a != b]
    return pd.DataFrame(pairs, columns=["exporter", "importer"])


def build_network(world: World) -> Network:
    """Declare every column and row family of the market LP for ``world``."""
    lp = LinearProgram()
    china = world.china
    fac = _facility_table(world)
    shares = _share_table(world)
    elements = _frame(element=list(world.elements))
    origins = _frame(origin=list(ORIGINS))
    magnet_elements = _frame(element=list(world.magnet_elements))

    recipes = pd.DataFrame(
        [
            {"grade_id": g.id, "element": e, "content": g.content_kg_reo_per_t.get(e, 0.0) / 1000}
            for g in world.magnet_grades
            for e in world.magnet_elements
        ]
    )
    mix = pd.DataFrame(
        [
            {"sector": s.id, "grade_id": k, "mix": share}
            for s in world.sectors
            if s.kind == "magnet"
            for k, share in s.magnet_mix.items()
        ],
        columns=["sector", "grade_id", "mix"],
    )

    # --- mining and concentration -------------------------------------------------------
    mines = fac.loc[fac.stage == "mining", ["facility", "region", "deposit"]]
    lp.add_columns("mine", mines)
    mined_pairs = mines[["region", "deposit"]].drop_duplicates()
    # Ore is not traded: a concentrator only takes deposits mined in its own region.
    conc_feeds = _feed_table(world, "concentration").merge(mined_pairs)
    lp.add_columns("concentrate", conc_feeds)
    served_pairs = conc_feeds[["region", "deposit"]].drop_duplicates()
    direct = mined_pairs.merge(served_pairs, how="left", indicator=True)
    unserved = direct.loc[direct["_merge"] == "left_only", ["region", "deposit"]]
    lp.add_columns("conc_direct", unserved)

    sep_feeds = _feed_table(world, "separation")
    deposit_home = shares[["deposit", "deposit_region"]].drop_duplicates()
    # Concentrate moves from its mining country to separation plants abroad. Chinese
    # concentrate is not exported (China is a net importer; its quota is processed at home).
    ship = sep_feeds[["region", "deposit"]].drop_duplicates().merge(deposit_home, on="deposit")
    ship = ship.loc[(ship.region != ship.deposit_region) & (ship.deposit_region != china)]
    ship = ship.rename(columns={"region": "importer", "deposit_region": "exporter"})
    ship = ship.merge(mined_pairs, left_on=["exporter", "deposit"], right_on=["region", "deposit"])
    lp.add_columns("conc_ship", ship[["deposit", "exporter", "importer"]])
    lp.add_columns("conc_store", mined_pairs)
    lp.add_columns("separate", sep_feeds)

    # --- oxide nodes: produced by separation/recycling, held in stockpiles ----------------
    sep = sep_feeds.merge(deposit_home, on="deposit").merge(fac[["facility", "grade"]])
    recycler_regions = set(fac.loc[fac.stage == "recycling", "region"])
    stock_regions = {s.region for s in world.stockpiles}
    oxide_holders = set(sep.region) | recycler_regions | stock_regions
    metal_regions = set(fac.loc[fac.stage == "metal", "region"])
    oxide_sector_regions = {
        d.region for d in world.demand if world.sector(d.sector).kind == "oxide"
    }
    oxide_users = metal_regions | oxide_sector_regions | stock_regions
    inventory_regions = sorted(oxide_sector_regions)
    oxide_regions = sorted(oxide_holders | oxide_users)
    grades_frame = _frame(grade=list(GRADES))
    oxide_nodes = _cross(_frame(region=oxide_regions), elements, origins, grades_frame)
    lp.add_rows("oxide_balance", oxide_nodes)
    exporters = oxide_holders
    lp.add_columns(
        "oxide_ship",
        _cross(_arcs(exporters, oxide_users | oxide_holders), elements, origins,
               _frame(grade=list(GRADES))),
    )
    lp.add_columns("oxide_downgrade", _cross(_frame(region=oxide_regions), elements, origins))
    lp.add_columns("oxide_dispose", oxide_nodes)

    # --- metal -------------------------------------------------------------------------
    metal_plants = _element_table(world, "metal", world.magnet_elements)
    lp.add_columns("metal_make", _cross(metal_plants, origins))
    magnet_regions = set(fac.loc[fac.stage == "magnet", "region"])
    metal_nodes = _cross(_frame(region=sorted(metal_regions | magnet_regions)), magnet_elements,
                         origins)
    lp.add_rows("metal_balance", metal_nodes)
    lp.add_columns("metal_ship", _cross(_arcs(metal_regions, magnet_regions), magnet_elements,
                                        origins))

    # --- magnets -----------------------------------------------------------------------
    magnet_plants = pd.DataFrame(
        [
            {"facility": f.id, "region": f.country, "grade_id": k}
            for f in world.facilities
            if f.stage == "magnet"
            for k in f.magnet_grades
        ],
        columns=["facility", "region", "grade_id"],
    )
    lp.add_columns("magnet_make", _cross(magnet_plants, origins))
    plant_elements = magnet_plants[["facility", "region"]].drop_duplicates()
    lp.add_columns("magnet_metal_use", _cross(plant_elements, magnet_elements, origins))
    demand_regions = sorted(
        {d.region for d in world.demand if world.sector(d.sector).kind == "magnet"}
    )
    grades = _frame(grade_id=[g.id for g in world.magnet_grades])
    magnet_nodes = _cross(_frame(region=sorted(magnet_regions | set(demand_regions))), grades,
                          origins)
    lp.add_rows("magnet_balance", magnet_nodes)
    lp.add_columns("magnet_ship", _cross(_arcs(magnet_regions, set(demand_regions)), grades,
                                         origins))
    sector_regions = pd.DataFrame(
        sorted({(d.region, d.sector) for d in world.demand
                if world.sector(d.sector).kind == "magnet"}),
        columns=["region", "sector"],
    )
    lp.add_columns("magnet_use", sector_regions.merge(mix[["sector", "grade_id"]]).merge(origins,
                                                                                        how="cross"))
    lp.add_columns("demand_block", _cross(sector_regions, _frame(block=range(SEGMENTS))))
    lp.add_columns("substitute", sector_regions)

    # --- oxide end uses ----------------------------------------------------------------
    oxide_demand = pd.DataFrame(
        sorted({(d.region, d.sector, d.element) for d in world.demand if d.element is not None}),
        columns=["region", "sector", "element"],
    )
    lp.add_columns("oxide_block", _cross(oxide_demand, _frame(block=range(SEGMENTS))))
    lp.add_columns("oxide_use", _cross(oxide_demand, origins, _frame(grade=list(GRADES))))

    # --- recycling and stockpiles --------------------------------------------------------
    recyclers = _element_table(world, "recycling", world.elements)
    lp.add_columns("recycle", _cross(recyclers, origins))
    scrap_regions = sorted(recycler_regions | magnet_regions | set(demand_regions))
    scrap_nodes = _cross(_frame(region=scrap_regions), elements, origins)
    lp.add_columns("scrap_dispose", scrap_nodes)
    stock_nodes = _cross(_frame(region=sorted(stock_regions)), elements, origins)
    lp.add_columns("stock_release", stock_nodes)
    lp.add_columns("stock_fill", stock_nodes)

    # --- buyers' and traders' inventories; stretch operation of facilities ---------------
    holders = _frame(region=inventory_regions)
    lp.add_columns("inventory_sell", _cross(holders, elements, origins))
    lp.add_columns("inventory_buy", _cross(holders, elements, origins))
    lp.add_columns("inventory_block", _cross(holders, elements, _frame(block=range(SEGMENTS))))
    lp.add_columns("stretch", fac[["facility"]])

    _declare_rows(lp, fac, mix, sector_regions, oxide_demand, scrap_nodes)
    cuts, mixes = _heavy_cuts(world, sep, shares)
    _declare_mixed_heavy(lp, world, fac, cuts, mixes)
    # off-grade oxide refined to magnet grade where separation plants are (added last)
    lp.add_columns("oxide_refine", _cross(_frame(region=sorted(set(sep.region))), elements,
                                          origins))
    outputs = _outputs(world, lp, fac, shares, recipes, sep, mixes)
    mixed_heavy = _mixed_heavy_made(lp, fac, cuts, mixes)
    shipments = _shipments(lp, shares, recipes, china, mixes)
    network = Network(world, lp, fac, shares, recipes, mix, china, outputs, shipments,
                      mixed_heavy, mixes)
    _link(network)
    return network


def _heavy_cuts(world: World, sep: pd.DataFrame,
                shares: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What each separation plant leaves in a mixed heavy concentrate, per feed deposit.

    ``cuts``: one row per (facility, region, deposit) it separates with ``mix`` (the product:
    deposit and the elements left, e.g. ``mountain_pass/Sm+Dy+Tb+Y+other_heavy``), ``origin``
    (that of the plant's oxide from the deposit) and ``content`` (t REO of the mix per t of feed,
    before recovery). ``mixes``: ``mix``, ``deposit``, ``element``, ``share`` (of the mix).
    A plant that separates every element, or one whose feed has none of those it leaves,
    makes no mixed heavy concentrate.
    """
    heavy = mixed_heavy_elements(world)
    left_by_plant = {
        f.id: "+".join(e for e in heavy if e not in f.elements)
        for f in world.facilities if f.stage == "separation" and f.elements is not None
    }
    left_by_plant = {plant: left for plant, left in left_by_plant.items() if left}
    cut_columns = ["facility", "region", "deposit", "mix", "origin", "content"]
    mix_columns = ["mix", "deposit", "element", "share"]
    plants = sep.loc[sep.facility.isin(set(left_by_plant)),
                     ["facility", "region", "deposit", "deposit_region"]]
    if plants.empty:
        return (pd.DataFrame(columns=cut_columns).astype({"content": float}),
                pd.DataFrame(columns=mix_columns).astype({"share": float}))
    plants = plants.assign(left=plants.facility.map(left_by_plant))
    plants["mix"] = plants.deposit + "/" + plants.left
    kinds = plants[["mix", "deposit", "left"]].drop_duplicates()
    kinds = kinds.assign(element=kinds.left.str.split("+")).explode("element")
    kinds = kinds.merge(shares[["deposit", "element", "share"]], on=["deposit", "element"])
    kinds = kinds.loc[kinds.share > 0]
    content = kinds.groupby("mix").share.sum()
    mixes = kinds.assign(share=kinds.share / kinds.mix.map(content).to_numpy(dtype=float))
    plants = plants.loc[plants.mix.isin(set(content.index))]
    china = world.china
    plants = plants.assign(
        content=plants.mix.map(content).to_numpy(dtype=float),
        origin=origin_tag(plants.region, china, origin_tag(plants.deposit_region, china)))
    return (plants[cut_columns].reset_index(drop=True),
            mixes[mix_columns].reset_index(drop=True))


def _declare_mixed_heavy(lp: LinearProgram, world: World, fac: pd.DataFrame, cuts: pd.DataFrame,
                         mixes: pd.DataFrame) -> None:
    """Columns and rows of the mixed heavy concentrate (added after all others)."""
    made = cuts[["region", "mix", "origin"]].drop_duplicates()
    takers = fac.loc[fac.mixed_heavy_feed & (fac.stage == "separation"), ["facility", "region"]]
    separable = _element_table(world, "separation", world.elements)
    # a plant refines a mix if it separates at least one of the mix's elements
    usable = takers.merge(separable).merge(mixes[["mix", "element"]])[["facility", "region", "mix"]]
    refine = usable.drop_duplicates().merge(made[["mix", "origin"]].drop_duplicates())
    lp.add_columns("heavy_refine", refine[["facility", "region", "mix", "origin"]])
    ship = made.rename(columns={"region": "exporter"}).merge(
        refine[["region", "mix", "origin"]].drop_duplicates().rename(
            columns={"region": "importer"}))
    ship = ship.loc[ship.exporter != ship.importer]
    lp.add_columns("mixed_heavy_ship", ship[["exporter", "importer", "mix", "origin"]]
                   .drop_duplicates())
    lp.add_columns("mixed_heavy_dispose", made)
    nodes = pd.concat([made, refine[["region", "mix", "origin"]]]).drop_duplicates()
    lp.add_rows("mixed_heavy_balance", nodes)


def _labelled(family: Family) -> pd.DataFrame:
    """The family's keys with ``family``, ``local`` (position) and ``col`` (global id)."""
    table = family.labelled("col")
    table["family"] = family.name
    table["local"] = np.arange(family.size, dtype=np.int64)
    return table


def _outputs(world: World, lp: LinearProgram, fac: pd.DataFrame, shares: pd.DataFrame,
             recipes: pd.DataFrame, sep: pd.DataFrame, mixes: pd.DataFrame) -> pd.DataFrame:
    """The :attr:`Network.outputs` table (see there)."""
    china = world.china
    rec = fac.set_index("facility")["recovery"].astype(float)
    deposit_shares = shares[["deposit", "deposit_region", "element", "share"]]

    mine = _labelled(lp.columns["mine"]).merge(deposit_shares, on="deposit")
    mine = mine.assign(stage="mining", coef=mine.share, origin=origin_tag(mine.region, china))

    conc = pd.concat([_labelled(lp.columns["concentrate"]),
                      _labelled(lp.columns["conc_direct"]).assign(facility="")])
    conc = conc.merge(deposit_shares, on="deposit")
    conc["coef"] = np.where(conc.facility == "", 1.0, conc.facility.map(rec)) * conc.share
    conc = conc.assign(stage="concentration", origin=origin_tag(conc.deposit_region, china))

    # Separated oxide: the elements the plant separates, by share of its feed's deposit.
    separable = _element_table(world, "separation", world.elements)
    out = _labelled(lp.columns["separate"]).merge(
        sep[["facility", "deposit", "deposit_region", "grade"]])
    out = out.merge(shares[["deposit", "element", "share"]]).merge(separable)
    out["coef"] = out.share * out.facility.map(rec)
    out = out.assign(stage="separation",
                     origin=origin_tag(out.region, china, origin_tag(out.deposit_region, china)))

    # Heavy refining: the elements of the mix the plant separates, by their share of the mix.
    refined = _labelled(lp.columns["heavy_refine"]).merge(mixes[["mix", "element", "share"]])
    refined = refined.merge(separable).merge(fac[["facility", "grade"]])
    refined["coef"] = (refined.share.to_numpy(dtype=float)
                       * refined.facility.map(rec).to_numpy(dtype=float))
    refined = refined.assign(stage="separation",
                             origin=origin_tag(refined.region, china, refined.origin))

    metal = _labelled(lp.columns["metal_make"])
    metal = metal.assign(stage="metal", coef=metal.facility.map(rec),
                         origin=origin_tag(metal.region, china, metal.origin))

    make = _labelled(lp.columns["magnet_make"]).merge(recipes, on="grade_id")
    make = make.assign(stage="magnet", coef=make.content)

    recycle = _labelled(lp.columns["recycle"])
    recycle = recycle.assign(stage="recycling", grade="hi", coef=recycle.facility.map(rec),
                             origin=origin_tag(recycle.region, china, recycle.origin))

    table = pd.concat([mine, conc, out, refined, metal, make, recycle], ignore_index=True)
    table["product"] = table.stage.map(STAGE_PRODUCT)
    table = table.fillna({"grade": "", "grade_id": ""})
    table = table.loc[table.coef != 0, OUTPUT_COLUMNS]
    return table.reset_index(drop=True)


def _mixed_heavy_made(lp: LinearProgram, fac: pd.DataFrame, cuts: pd.DataFrame,
                      mixes: pd.DataFrame) -> pd.DataFrame:
    """The :attr:`Network.mixed_heavy` table (see there)."""
    rec = fac.set_index("facility")["recovery"].astype(float)
    made = _labelled(lp.columns["separate"]).merge(cuts[["facility", "deposit", "mix", "origin",
                                                         "content"]])
    made = made.merge(mixes[["mix", "element", "share"]], on="mix")
    made = made.assign(stage="separation", product="mixed_heavy", grade="", grade_id="",
                       coef=made.content.to_numpy(dtype=float) * made.share.to_numpy(dtype=float)
                       * made.facility.map(rec).to_numpy(dtype=float))
    return made.loc[made.coef != 0, MIXED_HEAVY_COLUMNS].reset_index(drop=True)


def _shipments(lp: LinearProgram, shares: pd.DataFrame, recipes: pd.DataFrame,
               china: str, mixes: pd.DataFrame) -> pd.DataFrame:
    """The :attr:`Network.shipments` table (see there)."""
    conc = _labelled(lp.columns["conc_ship"]).merge(
        shares[["deposit", "element", "share"]], on="deposit")
    # Concentrate is shipped from its mining country: its tag is that of freshly mined ore.
    conc = conc.assign(product="concentrate", coef=conc.share,
                       origin=origin_tag(conc.exporter, china))
    oxide = _labelled(lp.columns["oxide_ship"]).assign(product="oxide", coef=1.0)
    metal = _labelled(lp.columns["metal_ship"]).assign(product="metal", coef=1.0)
    magnet = _labelled(lp.columns["magnet_ship"]).merge(recipes, on="grade_id")
    magnet = magnet.assign(product="magnet", coef=magnet.content)
    heavy = _labelled(lp.columns["mixed_heavy_ship"]).merge(mixes[["mix", "element", "share"]])
    heavy = heavy.assign(product="mixed_heavy", coef=heavy.share)
    table = pd.concat([conc, oxide, metal, magnet, heavy], ignore_index=True)
    table = table.fillna({"grade": "", "grade_id": ""})
    table = table.loc[table.coef != 0, SHIPMENT_COLUMNS]
    return table.reset_index(drop=True)


def _declare_rows(
    lp: LinearProgram,
    fac: pd.DataFrame,
    mix: pd.DataFrame,
    sector_regions: pd.DataFrame,
    oxide_demand: pd.DataFrame,
    scrap_nodes: pd.DataFrame,
) -> None:
    lp.add_rows("ore_balance", lp.columns["mine"].keys[["region", "deposit"]])
    conc_nodes = pd.concat([
        lp.columns["conc_store"].keys,
        lp.columns["separate"].keys[["region", "deposit"]],
    ])
    lp.add_rows("concentrate_balance", conc_nodes)
    # (mining's capacity rows come last: row ids, and so the LP, stay as they always were)
    for stage in ("concentration", "separation", "metal", "magnet", "recycling", "mining"):
        lp.add_rows(f"{stage}_capacity", fac.loc[fac.stage == stage, ["facility"]])
    lp.add_rows("magnet_recipe", lp.columns["magnet_metal_use"].keys[["facility", "region",
                                                                       "element"]])
    lp.add_rows("magnet_clean", lp.columns["magnet_metal_use"].keys[["facility", "element"]])
    lp.add_rows("sector_mix", sector_regions.merge(mix[["sector", "grade_id"]]))
    lp.add_rows("substitute_limit", sector_regions)
    lp.add_rows("oxide_demand", oxide_demand)
    lp.add_rows("scrap_balance", scrap_nodes)
    lp.add_rows("inventory_holding", lp.columns["inventory_block"].keys[["region", "element"]]
                .drop_duplicates())
    lp.add_rows("normal_capacity", fac[["facility"]])
    for product in REEXPORT_KEYS:
        ship = lp.columns[SHIP_FAMILY[product]].keys
        kept = list(REEXPORT_KEYS[product])
        lp.add_rows(f"reexport_{product}", ship[["exporter", *kept]].drop_duplicates()
                    .rename(columns={"exporter": "region"}).reset_index(drop=True))


def _link(net: Network) -> None:
    """Fill the matrix: every balance and capacity row with its terms."""
    lp, fac = net.lp, net.facilities
    rec = fac.set_index("facility")["recovery"]
    col, row = net.col, net.row
    made = {str(family): table for family, table in net.outputs.groupby("family", sort=False)}

    # capacity rows bound each stage's activity; shipments leave the exporter's balance node
    # and enter the importer's, keeping their keys
    for stage, family in STAGE_FAMILY.items():
        lp.link(row(f"{stage}_capacity"), col(family), ["facility"], 1.0)
    for ship, balance, kept in SHIPPING.values():
        for end, sign in (("importer", 1.0), ("exporter", -1.0)):
            lp.link(row(balance), col(ship), {"region": end, **{k: k for k in kept}}, sign)

    # ore: mined = concentrated (+ direct where no concentrator)
    lp.link(row("ore_balance"), col("mine"), ["region", "deposit"], 1.0)
    lp.link(row("ore_balance"), col("concentrate"), ["region", "deposit"], -1.0)
    lp.link(row("ore_balance"), col("conc_direct"), ["region", "deposit"], -1.0)

    # concentrate at each region: produced + imported = separated + exported + stored
    conc = col("concentrate").labelled("col")
    conc["coef"] = conc.facility.map(rec)
    lp.link(row("concentrate_balance"), conc, ["region", "deposit"], "coef")
    lp.link(row("concentrate_balance"), col("conc_direct"), ["region", "deposit"], 1.0)
    lp.link(row("concentrate_balance"), col("separate"), ["region", "deposit"], -1.0)
    lp.link(row("concentrate_balance"), col("conc_store"), ["region", "deposit"], -1.0)

    # separation output by element into oxide nodes (only elements the plant separates)
    out = made["separate"]
    lp.link(row("oxide_balance"), out[["region", "element", "origin", "grade", "col", "coef"]],
            ["region", "element", "origin", "grade"], "coef")

    # oxide downgrade (hi → lo), disposal
    down = col("oxide_downgrade").labelled("col")
    lp.link(row("oxide_balance"), down.assign(grade="hi"), ["region", "element", "origin",
                                                           "grade"], -1.0)
    lp.link(row("oxide_balance"), down.assign(grade="lo"), ["region", "element", "origin",
                                                           "grade"], 1.0)
    lp.link(row("oxide_balance"), col("oxide_dispose"), ["region", "element", "origin", "grade"],
            -1.0)
    # off-grade refining (lo → hi), no mass lost: a further purification pass
    refine = col("oxide_refine").labelled("col")
    lp.link(row("oxide_balance"), refine.assign(grade="lo"), ["region", "element", "origin",
                                                             "grade"], -1.0)
    lp.link(row("oxide_balance"), refine.assign(grade="hi"), ["region", "element", "origin",
                                                             "grade"], 1.0)

    # metal: hi oxide in, metal out (origin becomes china if reduced in China)
    metal = col("metal_make").labelled("col")
    lp.link(row("oxide_balance"), metal.assign(grade="hi"), ["region", "element", "origin",
                                                            "grade"], -1.0)
    metal_out = made["metal_make"][["region", "element", "origin", "col", "coef"]]
    lp.link(row("metal_balance"), metal_out, ["region", "element", "origin"], "coef")
    lp.link(row("metal_balance"), col("magnet_metal_use"), ["region", "element", "origin"], -1.0)

    # magnets: recipe rows tie metal use to magnets made (gross of swarf); clean magnets draw
    # only non-China metal; made-in-China magnets are always tainted (bounded in set_year).
    gross = 1.0 / (1.0 - SWARF_SHARE)
    make = col("magnet_make").labelled("col").merge(net.recipes, on="grade_id")
    make["need"] = make.content * gross
    lp.link(row("magnet_recipe"), col("magnet_metal_use"), ["facility", "region", "element"], 1.0)
    lp.link(row("magnet_recipe"), make.assign(coef=-make.need), ["facility", "region", "element"],
            "coef")
    clean_use = col("magnet_metal_use").labelled("col")
    lp.link(row("magnet_clean"), clean_use.loc[clean_use.origin == "other"],
            ["facility", "element"], 1.0)
    clean_make = make.loc[make.origin == "other"]
    lp.link(row("magnet_clean"), clean_make.assign(coef=-clean_make.need),
            ["facility", "element"], "coef")
    lp.link(row("magnet_balance"), col("magnet_make"), ["region", "grade_id", "origin"], 1.0)
    lp.link(row("magnet_balance"), col("magnet_use"), ["region", "grade_id", "origin"], -1.0)

    # sectors: magnets of each grade in the sector's mix = mix × (served − substituted)
    lp.link(row("sector_mix"), col("magnet_use"), ["region", "sector", "grade_id"], 1.0)
    blocks = col("demand_block").labelled("col").merge(net.magnet_mix, on="sector")
    lp.link(row("sector_mix"), blocks.assign(coef=-blocks.mix), ["region", "sector", "grade_id"],
            "coef")
    subs = col("substitute").labelled("col").merge(net.magnet_mix, on="sector")
    lp.link(row("sector_mix"), subs.assign(coef=subs.mix), ["region", "sector", "grade_id"],
            "coef")
    lp.link(row("substitute_limit"), col("substitute"), ["region", "sector"], 1.0)

    # oxide end uses draw oxide of any origin and grade
    lp.link(row("oxide_demand"), col("oxide_use"), ["region", "sector", "element"], 1.0)
    lp.link(row("oxide_demand"), col("oxide_block"), ["region", "sector", "element"], -1.0)
    lp.link(row("oxide_balance"), col("oxide_use"), ["region", "element", "origin", "grade"], -1.0)

    # recycling: scrap (swarf + end-of-life, RHS) → hi oxide
    swarf = make.assign(coef=make.content * (gross - 1.0))
    lp.link(row("scrap_balance"), swarf.assign(coef=-swarf.coef), ["region", "element", "origin"],
            "coef")
    lp.link(row("scrap_balance"), col("recycle"), ["region", "element", "origin"], 1.0)
    lp.link(row("scrap_balance"), col("scrap_dispose"), ["region", "element", "origin"], 1.0)
    recycled = made["recycle"][["region", "element", "origin", "grade", "col", "coef"]]
    lp.link(row("oxide_balance"), recycled, ["region", "element", "origin", "grade"], "coef")

    # stockpiles and inventories hold hi oxide
    oxide_keys = ["region", "element", "origin", "grade"]
    lp.link(row("oxide_balance"), col("stock_release").labelled("col").assign(grade="hi"),
            oxide_keys, 1.0)
    lp.link(row("oxide_balance"), col("stock_fill").labelled("col").assign(grade="hi"),
            oxide_keys, -1.0)
    lp.link(row("oxide_balance"), col("inventory_sell").labelled("col").assign(grade="hi"),
            oxide_keys, 1.0)
    lp.link(row("oxide_balance"), col("inventory_buy").labelled("col").assign(grade="hi"),
            oxide_keys, -1.0)
    # closing stock = opening − sold + bought, valued along the stock-demand curve's steps
    # (the opening stock is the row's right-hand side, set per year)
    lp.link(row("inventory_holding"), col("inventory_buy"), ["region", "element"], 1.0)
    lp.link(row("inventory_holding"), col("inventory_sell"), ["region", "element"], -1.0)
    lp.link(row("inventory_holding"), col("inventory_block"), ["region", "element"], -1.0)

    # mixed heavy concentrate: made by light separation (per t of feed: the mix's content ×
    # recovery), refined by heavy separation on its separation capacity, or left in the residue
    heavy_made = net.mixed_heavy.groupby(["col", "region", "mix", "origin"])["coef"].sum(
    ).reset_index()
    lp.link(row("mixed_heavy_balance"), heavy_made, ["region", "mix", "origin"], "coef")
    lp.link(row("mixed_heavy_balance"), col("heavy_refine"), ["region", "mix", "origin"], -1.0)
    lp.link(row("mixed_heavy_balance"), col("mixed_heavy_dispose"), ["region", "mix", "origin"],
            -1.0)
    refined = made.get("heavy_refine")
    if refined is not None:
        lp.link(row("oxide_balance"), refined[["region", "element", "origin", "grade", "col",
                                                "coef"]],
                ["region", "element", "origin", "grade"], "coef")
    lp.link(row("separation_capacity"), col("heavy_refine"), ["facility"], 1.0)

    # rule of origin: exports of a product at most the region's own output of it
    makers = {"metal": ("metal_make",), "magnet": ("magnet_make",)}
    for product, keys in REEXPORT_KEYS.items():
        rows = row(f"reexport_{product}")
        lp.link(rows, col(SHIP_FAMILY[product]), {"region": "exporter", **{k: k for k in keys}},
                1.0)
        for name in makers[product]:
            output = (made[name] if product != "magnet"
                      else col(name).labelled("col").assign(coef=1.0))
            table = output[["region", *keys, "col"]].assign(coef=-output["coef"].to_numpy())
            lp.link(rows, table, ["region", *keys], "coef")

    # activity beyond a facility's normal share of capacity is booked on its stretch column
    for family in (*STAGE_FAMILY.values(), "heavy_refine"):
        lp.link(row("normal_capacity"), col(family), ["facility"], 1.0)
    lp.link(row("normal_capacity"), col("stretch"), ["facility"], -1.0)
