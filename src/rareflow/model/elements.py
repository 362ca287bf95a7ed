"""The fixed vocabularies of the model: elements, stages, origins and feed classes.

Elements are tracked in tonnes of rare-earth oxide equivalent (t REO). ``other_heavy`` groups the
medium and heavy rare earths that the model does not track one by one (Eu, Gd, Ho, Er, Tm, Yb, Lu),
so that a deposit's shares over :data:`ELEMENTS` sum to one.
"""

from typing import Literal, get_args

Element = Literal["NdPr", "Dy", "Tb", "Sm", "La", "Ce", "Y", "other_heavy"]
ELEMENTS: tuple[Element, ...] = get_args(Element)

#: Elements that go into permanent magnets (NdFeB and SmCo) through the metal stage.
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
