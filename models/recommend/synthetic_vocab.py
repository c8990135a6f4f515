"""Words the synthetic catalog is written from: per category, the product types (sub-types), brands,
adjectives and feature phrases, plus the hidden item styles and the categories shoppers move between."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class CategoryWords:
    """Vocabulary of one category; each noun is one product sub-type."""

    name: str
    nouns: tuple[str, ...]
    brands: tuple[str, ...]
    adjectives: tuple[str, ...]
    features: tuple[str, ...]
    median_price: float


CATEGORIES: Final = (
    CategoryWords(
        "running",
        ("running shoe", "trail shoe", "running sock", "hydration vest"),
        ("Stridewell", "Northpeak", "Fleetfoot", "Paceline"),
        ("lightweight", "cushioned", "breathable", "responsive", "grippy", "reflective"),
        (
            "a breathable mesh upper",
            "a rock plate",
            "moisture-wicking yarn",
            "a secure heel lock",
            "two soft flasks",
            "a reflective trim",
            "a carbon-infused midsole",
            "a seamless toe",
        ),
        60.0,
    ),
    CategoryWords(
        "fitness",
        ("yoga mat", "dumbbell set", "resistance band", "foam roller"),
        ("Corewell", "IronLeaf", "Flexora", "Pulsefit"),
        ("non-slip", "adjustable", "dense", "portable", "durable", "textured"),
        (
            "a non-slip surface",
            "quick-change plates",
            "five resistance levels",
            "a high-density core",
            "an alignment guide",
            "a carry strap",
            "knurled handles",
            "a trigger-point pattern",
        ),
        35.0,
    ),
    CategoryWords(
        "coffee",
        ("espresso machine", "coffee grinder", "whole bean coffee", "milk frother"),
        ("Crema Co", "Roastline", "Barista Bay", "Moka Field"),
        ("single-origin", "burr", "compact", "dark-roast", "programmable", "velvety"),
        (
            "a 15-bar pump",
            "conical burrs",
            "notes of cocoa and cherry",
            "a steam wand",
            "forty grind settings",
            "a light roast profile",
            "a thermal jug",
            "a one-touch froth button",
        ),
        45.0,
    ),
    CategoryWords(
        "cookware",
        ("frying pan", "chef knife", "dutch oven", "cutting board"),
        ("Hearthstone", "Blade & Co", "Castwell", "Oakboard"),
        ("nonstick", "forged", "enamelled", "cast-iron", "end-grain", "oven-safe"),
        (
            "a triple-layer nonstick coating",
            "a full-tang blade",
            "an enamelled interior",
            "a juice groove",
            "a stay-cool handle",
            "a tight-fitting lid",
            "high-carbon steel",
            "an induction-ready base",
        ),
        40.0,
    ),
    CategoryWords(
        "audio",
        ("wireless headphones", "bluetooth speaker", "earbuds", "turntable"),
        ("Sonique", "Bassline", "Echoform", "Vinyla"),
        ("noise-cancelling", "waterproof", "hi-fi", "wireless", "compact", "warm-sounding"),
        (
            "active noise cancelling",
            "thirty hours of battery",
            "an IPX7 rating",
            "a belt drive",
            "deep bass drivers",
            "a charging case",
            "multipoint pairing",
            "a built-in phono preamp",
        ),
        80.0,
    ),
    CategoryWords(
        "photography",
        ("mirrorless camera", "camera lens", "tripod", "memory card"),
        ("Lumetra", "Aperture Lab", "Steadyleg", "Framecraft"),
        ("full-frame", "fast", "travel", "weather-sealed", "high-speed", "prime"),
        (
            "a 24-megapixel sensor",
            "an f/1.8 aperture",
            "carbon-fibre legs",
            "V30 write speeds",
            "in-body stabilisation",
            "a quick-release plate",
            "silent autofocus",
            "4K video",
        ),
        120.0,
    ),
    CategoryWords(
        "camping",
        ("tent", "sleeping bag", "camping stove", "headlamp"),
        ("Trailhaven", "Summit Kin", "Emberline", "Outpost"),
        ("ultralight", "three-season", "insulated", "waterproof", "packable", "rechargeable"),
        (
            "a double-wall design",
            "down insulation",
            "a piezo igniter",
            "a 400-lumen beam",
            "aluminium poles",
            "a compression sack",
            "a wind shield",
            "a red night mode",
        ),
        70.0,
    ),
    CategoryWords(
        "skincare",
        ("face moisturizer", "sunscreen", "cleanser", "serum"),
        ("Dermaleaf", "Glowen", "Puraskin", "Solace"),
        ("hydrating", "fragrance-free", "gentle", "broad-spectrum", "brightening", "lightweight"),
        (
            "hyaluronic acid",
            "SPF 50 protection",
            "niacinamide",
            "a gel texture",
            "ceramides",
            "vitamin C",
            "a pH-balanced formula",
            "a mineral filter",
        ),
        25.0,
    ),
    CategoryWords(
        "books",
        ("science fiction novel", "fantasy novel", "mystery novel", "cookbook"),
        ("Starfold Press", "Inkwell", "Lanternhouse", "Pageturn"),
        ("gripping", "award-winning", "illustrated", "epic", "cosy", "bestselling"),
        (
            "a twist ending",
            "a sprawling magic system",
            "a detective duo",
            "one hundred recipes",
            "a starship crew",
            "full-colour photography",
            "a hidden kingdom",
            "weeknight dinners",
        ),
        18.0,
    ),
    CategoryWords(
        "toys",
        ("building blocks", "jigsaw puzzle", "plush toy", "board game"),
        ("Brickly", "Puzzlewood", "Snugglebee", "Gamenight"),
        ("colourful", "educational", "cuddly", "family-friendly", "1000-piece", "creative"),
        (
            "five hundred pieces",
            "a poster guide",
            "soft organic cotton",
            "two to six players",
            "a storage box",
            "glow-in-the-dark parts",
            "a strategy twist",
            "washable fabric",
        ),
        30.0,
    ),
    CategoryWords(
        "gardening",
        ("pruning shears", "garden hose", "seed kit", "planter"),
        ("Greenthumb", "Rootwise", "Bloomfield", "Terrafold"),
        ("ergonomic", "expandable", "organic", "self-watering", "rust-proof", "heirloom"),
        (
            "bypass blades",
            "a brass connector",
            "twelve heirloom varieties",
            "a water reservoir",
            "a soft-grip handle",
            "kink-free tubing",
            "biodegradable pots",
            "drainage holes",
        ),
        28.0,
    ),
    CategoryWords(
        "computing",
        ("mechanical keyboard", "wireless mouse", "usb-c hub", "laptop stand"),
        ("Keystone", "Clickwise", "Portly", "Elevate"),
        ("mechanical", "ergonomic", "low-profile", "aluminium", "silent", "multi-device"),
        (
            "hot-swappable switches",
            "a 4K HDMI port",
            "an adjustable height",
            "a silent click",
            "RGB backlighting",
            "100-watt pass-through charging",
            "a foldable frame",
            "a 70-day battery",
        ),
        50.0,
    ),
)

# Categories shoppers often move between (the complementary items of an item come partly from here).
LINKED: Final[dict[str, str]] = {
    "running": "fitness",
    "fitness": "running",
    "coffee": "cookware",
    "cookware": "coffee",
    "audio": "computing",
    "computing": "audio",
    "photography": "camping",
    "camping": "photography",
    "skincare": "fitness",
    "books": "toys",
    "toys": "books",
    "gardening": "cookware",
}

# Hidden item styles (users prefer some); the text names an item's style only sometimes.
STYLES: Final = ("value", "premium", "eco", "pro")
STYLE_PHRASES: Final[dict[str, tuple[str, ...]]] = {
    "value": ("Great everyday value.", "An affordable classic."),
    "premium": ("Premium materials throughout.", "A luxury finish."),
    "eco": ("Made from recycled materials.", "Sustainably sourced."),
    "pro": ("Built for professionals.", "Pro-grade performance."),
}
STYLE_PRICE_FACTOR: Final[dict[str, float]] = {"value": 0.6, "premium": 1.8, "eco": 1.1, "pro": 1.5}

GENERIC_NOUNS: Final = ("bundle", "starter set", "gift set", "essentials kit")
FILLERS: Final = (
    "Ships in recyclable packaging.",
    "Backed by a two-year warranty.",
    "A customer favourite.",
    "Free returns within 30 days.",
    "New for this season.",
)
CHANNELS: Final = ("web", "app", "email")
