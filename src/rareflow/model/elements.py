"""The fixed vocabularies of the model: element names, stages, origins and feed classes.

Elements are tracked in tonnes of rare-earth oxide equivalent (t REO). Each world declares which
elements it tracks (``World.elements``); the default, that of the bundled worlds, is
:data:`ELEMENTS`, where ``other_heavy`` groups the medium and heavy rare earths not tracked one
by one (Eu, Gd, Ho, Er, Tm, Yb, Lu), so that a deposit's shares over :data:`ELEMENTS` sum to one.
A world may instead track those one by one (:data:`INDIVIDUAL_ELEMENTS`: all 17 rare earths,
with Nd and Pr traded together as ``NdPr``, as didymium is).
"""

from typing import Literal, get_args

#: Every element name a world may track: the bundled worlds' groups and the single rare earths.
Element = Literal["NdPr", "Dy", "Tb", "Sm", "La", "Ce", "Y", "other_heavy",
                  "Sc", "Pm", "Eu", "Gd", "Ho", "Er", "Tm", "Yb", "Lu"]
ELEMENT_NAMES: tuple[Element, ...] = get_args(Element)
#: The elements a world tracks unless it declares others (those of the bundled worlds).
ELEMENTS: tuple[Element, ...] = ELEMENT_NAMES[:8]
#: All 17 rare earths one by one (Nd and Pr as one traded ``NdPr``), in atomic-number order.
INDIVIDUAL_ELEMENTS: tuple[Element, ...] = (
    "Sc", "Y", "La", "Ce", "NdPr", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu")

#: Elements that go into permanent magnets (NdFeB and SmCo) through the metal stage (besides
#: any other element a world's magnet recipe uses: ``World.magnet_elements``).
MAGNET_ELEMENTS: tuple[Element, ...] = ("NdPr", "Dy", "Tb", "Sm")

Stage = Literal["mining", "concentration", "separation", "metal", "magnet", "recycling"]
STAGES: tuple[Stage, ...] = get_args(Stage)

#: Origin tag carried by every processed flow. ``china`` marks material mined or separated in
#: China (what China's export-control and de-minimis rules reach); ``other`` is everything else.
Origin = Literal["china", "other"]
ORIGINS: tuple[Origin, ...] = get_args(Origin)

DepositClass = Literal[
    "bastnasite",
    "carbonatite_monazite",
    "monazite_sand",
    "ionic_clay",
    "xenotime",
    "eudialyte",
    "coal_byproduct",
    "mixed",
]
DEPOSIT_CLASSES: tuple[DepositClass, ...] = get_args(DepositClass)

#: Named elements inside ``other_heavy``; used to map export-control lists onto tracked elements.
OTHER_HEAVY_MEMBERS: tuple[str, ...] = ("Eu", "Gd", "Ho", "Er", "Tm", "Yb", "Lu")

#: How an individual rare earth named in a policy text maps onto a tracked element.
ELEMENT_ALIASES: dict[str, Element] = {
    "Nd": "NdPr",
    "Pr": "NdPr",
    "NdPr": "NdPr",
    "Dy": "Dy",
    "Tb": "Tb",
    "Sm": "Sm",
    "La": "La",
    "Ce": "Ce",
    "Y": "Y",
    "Sc": "other_heavy",
    **{member: "other_heavy" for member in OTHER_HEAVY_MEMBERS},
    "other_heavy": "other_heavy",
}
