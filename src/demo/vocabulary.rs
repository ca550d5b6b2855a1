//! The demo shop's invented vocabulary: departments and leaf categories, their brands,
//! price ranges, title templates, attributes and description phrases, plus the
//! complement pairs that drive co-purchases and the shopper name pools.
//!
//! Every brand and name here is made up; none is meant to be a real trademark.

/// One attribute a leaf's products carry, with the values it takes.
pub(super) struct AttributeSpec {
    /// The key in `ProductRecord::attributes` and the placeholder name in templates.
    pub name: &'static str,
    /// The values, cheapest first when `follows_price` is set.
    pub values: &'static [&'static str],
    /// Whether pricier products take values further down the list (capacity, size...).
    pub follows_price: bool,
}

/// Everything needed to invent the products of one leaf category.
pub(super) struct LeafSpec {
    /// The department (root of the category path).
    pub department: &'static str,
    /// The leaf's own name.
    pub leaf: &'static str,
    /// Whether shoppers use it up and buy it again.
    pub consumable: bool,
    /// Typical days between re-buys of a consumable (0 for durables).
    pub rebuy_days: u32,
    /// Relative share of the catalogue (the leaf sizes are uneven on purpose).
    pub share: f32,
    /// Cheapest and dearest price in cents.
    pub price_cents: (i64, i64),
    /// Brand names, budget first, premium last.
    pub brands: &'static [&'static str],
    /// Product nouns (`Mirrorless Camera`).
    pub nouns: &'static [&'static str],
    /// Adjectives or title words (`Travel`).
    pub adjectives: &'static [&'static str],
    /// Letters that start model names (`Z` in `Z50`).
    pub model_prefixes: &'static [&'static str],
    /// The title template; placeholders are `{brand}`, `{model}`, `{adj}`, `{noun}` and
    /// the attribute names.
    pub title: &'static str,
    /// The attributes every product of the leaf carries.
    pub attributes: &'static [AttributeSpec],
    /// Opening sentences of descriptions (same placeholders, plus `{noun_lower}`).
    pub leads: &'static [&'static str],
    /// Further description sentences.
    pub details: &'static [&'static str],
}

const COLOURS: &[&str] = &["Black", "White", "Slate Grey", "Navy", "Olive", "Sand"];

/// The leaf categories, grouped by department in display order.
pub(super) const LEAVES: &[LeafSpec] = &[
    LeafSpec {
        department: "Electronics",
        leaf: "Cameras",
        consumable: false,
        rebuy_days: 0,
        share: 1.1,
        price_cents: (25_000, 240_000),
        brands: &["Fotaro", "Keltrix", "Lumora", "Veyon", "Sable Optics"],
        nouns: &["Mirrorless Camera", "Compact Camera", "DSLR Camera", "Bridge Camera"],
        adjectives: &["Travel", "Studio", "Vlog", "Classic", "Pro", "Street"],
        model_prefixes: &["Z", "X", "A", "R", "M"],
        title: "{brand} {model} {adj} {noun}, {resolution}",
        attributes: &[
            AttributeSpec { name: "resolution", values: &["16MP", "20MP", "24MP", "33MP", "45MP", "61MP"], follows_price: true },
            AttributeSpec { name: "sensor", values: &["1-inch", "Micro Four Thirds", "APS-C", "Full Frame"], follows_price: true },
            AttributeSpec { name: "colour", values: &["Black", "Silver", "Graphite"], follows_price: false },
        ],
        leads: &[
            "The {brand} {model} is a {adj_lower} {noun_lower} built around a {sensor} sensor.",
            "A {noun_lower} from {brand} that shoots {resolution} stills on a {sensor} sensor.",
        ],
        details: &[
            "It records 4K video at up to 60 frames per second.",
            "In-body stabilisation keeps handheld shots sharp in low light.",
            "The weather-sealed body comes in {colour}.",
            "A fully articulating screen makes low angles and selfies easy.",
            "Battery life is rated at about 400 shots per charge.",
            "Eye-detection autofocus tracks people and pets.",
        ],
    },
    LeafSpec {
        department: "Electronics",
        leaf: "Memory Cards",
        consumable: false,
        rebuy_days: 0,
        share: 1.0,
        price_cents: (800, 9_000),
        brands: &["Kioro", "Bitvault", "Corespan", "Vantor", "Nexa Storage"],
        nouns: &["Card"],
        adjectives: &["Everyday", "Ultra", "Extreme", "Endurance", "Pro", "Max"],
        model_prefixes: &["S", "E", "V"],
        title: "{brand} {adj} {capacity} {form} {noun}, {speed}",
        attributes: &[
            AttributeSpec { name: "capacity", values: &["32GB", "64GB", "128GB", "256GB", "512GB", "1TB"], follows_price: true },
            AttributeSpec { name: "speed", values: &["U1", "U3", "V30", "V60", "V90"], follows_price: true },
            AttributeSpec { name: "form", values: &["microSD", "SD"], follows_price: false },
        ],
        leads: &[
            "A {capacity} {form} card from {brand} rated {speed} for sustained writes.",
            "The {brand} {adj} {form} card stores {capacity} and meets the {speed} speed class.",
        ],
        details: &[
            "Fast enough for 4K video and burst photography.",
            "Waterproof, shockproof and X-ray proof.",
            "Comes with a full-size SD adapter and a storage case.",
            "Read speeds reach up to 170 MB/s.",
            "Works in cameras, drones, phones and handheld consoles.",
        ],
    },
    LeafSpec {
        department: "Electronics",
        leaf: "Camera Bags",
        consumable: false,
        rebuy_days: 0,
        share: 0.7,
        price_cents: (2_500, 22_000),
        brands: &["Canvasco", "Trailpack", "Oberline", "Hollin & Reed"],
        nouns: &["Sling Bag", "Camera Backpack", "Shoulder Bag", "Holster Case"],
        adjectives: &["Urban", "Roll-Top", "Compact", "Weatherproof", "Everyday", "Expedition"],
        model_prefixes: &["S", "T", "K"],
        title: "{brand} {adj} {noun} {model}, {capacity}",
        attributes: &[
            AttributeSpec { name: "capacity", values: &["6L", "10L", "14L", "20L", "28L"], follows_price: true },
            AttributeSpec { name: "material", values: &["Recycled Nylon", "Ballistic Nylon", "Waxed Canvas", "Leather"], follows_price: true },
            AttributeSpec { name: "colour", values: &["Black", "Olive", "Slate Grey", "Tan"], follows_price: false },
        ],
        leads: &[
            "The {brand} {adj} {noun_lower} holds {capacity} of gear in {material}.",
            "A {adj_lower} {noun_lower} in {colour} {material} from {brand}.",
        ],
        details: &[
            "Padded, movable dividers fit a body and two or three lenses.",
            "A side zip gives quick access to the camera.",
            "A padded sleeve takes a 13-inch laptop or tablet.",
            "The base is water-resistant and sits upright on wet ground.",
            "Luggage pass-through strap for travel days.",
        ],
    },
    LeafSpec {
        department: "Electronics",
        leaf: "Headphones",
        consumable: false,
        rebuy_days: 0,
        share: 1.3,
        price_cents: (1_500, 45_000),
        brands: &["Basswell", "Pulsar", "Sonique", "Aurel", "Quietline", "Halden Audio"],
        nouns: &["Wireless Earbuds", "Over-Ear Headphones", "On-Ear Headphones", "Sport Earbuds"],
        adjectives: &["Noise-Cancelling", "Studio", "Everyday", "Travel", "Hi-Res"],
        model_prefixes: &["H", "Q", "B", "E"],
        title: "{brand} {model} {adj} {noun}, {colour}",
        attributes: &[
            AttributeSpec { name: "battery", values: &["20 hours", "30 hours", "40 hours", "60 hours"], follows_price: true },
            AttributeSpec { name: "driver", values: &["10mm", "12mm", "40mm", "50mm"], follows_price: false },
            AttributeSpec { name: "colour", values: &["Black", "White", "Midnight Blue", "Sand", "Rose"], follows_price: false },
        ],
        leads: &[
            "{brand} {model} {noun_lower} with {driver} drivers and {battery} of battery.",
            "The {brand} {model} are {adj_lower} {noun_lower} finished in {colour}.",
        ],
        details: &[
            "Active noise cancellation quiets trains and open offices.",
            "A quick ten-minute charge gives two hours of listening.",
            "Multipoint Bluetooth switches between laptop and phone.",
            "Memory-foam cushions stay comfortable on long flights.",
            "A transparency mode lets announcements through.",
        ],
    },
    LeafSpec {
        department: "Electronics",
        leaf: "Smartphones",
        consumable: false,
        rebuy_days: 0,
        share: 0.9,
        price_cents: (14_900, 129_900),
        brands: &["Zephyr", "Kairo", "Orvo", "Nimbus", "Talon Mobile"],
        nouns: &["Smartphone"],
        adjectives: &["Lite", "Plus", "Pro", "Max", "Mini", "Edge"],
        model_prefixes: &["S", "X", "N", "K"],
        title: "{brand} {model} {adj} {noun}, {storage}, {colour}",
        attributes: &[
            AttributeSpec { name: "storage", values: &["64GB", "128GB", "256GB", "512GB"], follows_price: true },
            AttributeSpec { name: "screen", values: &["6.1 inch", "6.4 inch", "6.7 inch"], follows_price: false },
            AttributeSpec { name: "colour", values: &["Graphite", "Glacier White", "Ocean Blue", "Moss Green", "Coral"], follows_price: false },
        ],
        leads: &[
            "The {brand} {model} {adj} has a {screen} OLED screen and {storage} of storage.",
            "A {screen} {noun_lower} from {brand} in {colour}, with {storage} built in.",
        ],
        details: &[
            "The triple camera includes a 3x telephoto lens.",
            "The battery lasts a full day and charges wirelessly.",
            "Rated IP68 against dust and water.",
            "Five years of software updates are promised.",
            "A 120 Hz display keeps scrolling smooth.",
        ],
    },
    LeafSpec {
        department: "Electronics",
        leaf: "Phone Cases",
        consumable: false,
        rebuy_days: 0,
        share: 0.8,
        price_cents: (900, 5_900),
        brands: &["Pebble & Co", "Casewright", "Shellguard", "Armora"],
        nouns: &["Phone Case", "Folio Case", "Bumper Case", "Clear Case"],
        adjectives: &["Slim", "Rugged", "Magnetic", "Eco", "Shockproof"],
        model_prefixes: &["C", "P"],
        title: "{brand} {adj} {noun} for {fits}, {colour}",
        attributes: &[
            AttributeSpec { name: "material", values: &["Recycled Plastic", "Silicone", "TPU", "Leather"], follows_price: true },
            AttributeSpec { name: "fits", values: &["Orvo 12", "Nimbus X", "Kairo 8", "Talon S5", "Zephyr Z3", "6.1 inch phones", "6.7 inch phones"], follows_price: false },
            AttributeSpec { name: "colour", values: &["Black", "Clear", "Forest Green", "Lilac", "Tan"], follows_price: false },
        ],
        leads: &[
            "A {adj_lower} {material} {noun_lower} from {brand} for {fits}.",
            "The {brand} {noun_lower} comes in {colour} {material} and fits {fits}.",
        ],
        details: &[
            "Raised edges keep the screen and cameras off the table.",
            "Drop-tested from two metres.",
            "Works with wireless chargers without taking it off.",
            "Button covers stay clicky and precise.",
        ],
    },
    LeafSpec {
        department: "Home",
        leaf: "Coffee Machines",
        consumable: false,
        rebuy_days: 0,
        share: 0.8,
        price_cents: (4_900, 89_900),
        brands: &["Morrow", "Kettlebrook", "Brewtide", "Cafferra", "Espresia"],
        nouns: &["Espresso Machine", "Drip Coffee Maker", "Pod Coffee Machine", "Bean-to-Cup Machine"],
        adjectives: &["Compact", "Barista", "Programmable", "Dual-Boiler", "Classic"],
        model_prefixes: &["E", "B", "C"],
        title: "{brand} {model} {adj} {noun}, {finish}",
        attributes: &[
            AttributeSpec { name: "pressure", values: &["9 bar", "15 bar", "19 bar"], follows_price: true },
            AttributeSpec { name: "capacity", values: &["1.0L", "1.2L", "1.5L", "1.8L"], follows_price: true },
            AttributeSpec { name: "finish", values: &["Brushed Steel", "Matte Black", "Cream", "Cherry Red"], follows_price: false },
        ],
        leads: &[
            "The {brand} {model} is a {adj_lower} {noun_lower} in {finish} with a {capacity} tank.",
            "A {noun_lower} from {brand} that brews at {pressure} from a {capacity} reservoir.",
        ],
        details: &[
            "A steam wand textures milk for flat whites.",
            "The removable drip tray goes in the dishwasher.",
            "It heats up in under a minute.",
            "A built-in timer has coffee ready when you wake.",
            "The grinder has twelve settings from espresso to cafetiere.",
        ],
    },
    LeafSpec {
        department: "Home",
        leaf: "Coffee & Tea",
        consumable: true,
        rebuy_days: 30,
        share: 1.2,
        price_cents: (699, 3_999),
        brands: &["Duskbean", "Mellow Leaf", "Teavora", "Highfold Roasters", "Alder & Oak"],
        nouns: &["Whole Bean Coffee", "Ground Coffee", "Loose Leaf Tea", "Tea Bags", "Espresso Beans"],
        adjectives: &["Organic", "Single-Origin", "Small-Lot", "Fair Trade", "Signature", "Reserve"],
        model_prefixes: &["No."],
        title: "{brand} {origin} {adj} {noun}, {weight}",
        attributes: &[
            AttributeSpec { name: "weight", values: &["250g", "500g", "1kg"], follows_price: true },
            AttributeSpec { name: "origin", values: &["Colombia", "Ethiopia", "Brazil", "Kenya", "Guatemala", "Assam", "Darjeeling"], follows_price: false },
            AttributeSpec { name: "notes", values: &["chocolate and hazelnut", "citrus and jasmine", "caramel", "dark cherry", "malt and honey"], follows_price: false },
        ],
        leads: &[
            "{brand} {adj_lower} {noun_lower} from {origin}, with notes of {notes}.",
            "A {weight} bag of {noun_lower} from {origin} by {brand}.",
        ],
        details: &[
            "Roasted in small batches and packed within a day.",
            "The resealable bag has a one-way valve to keep it fresh.",
            "Ethically sourced from farms paid above the market price.",
            "Good as espresso, pour-over or in a cafetiere.",
        ],
    },
    LeafSpec {
        department: "Home",
        leaf: "Bedding",
        consumable: false,
        rebuy_days: 0,
        share: 1.0,
        price_cents: (2_500, 32_000),
        brands: &["Slumberfield", "Linnea Home", "Duvella", "Cotton & Crane"],
        nouns: &["Duvet Cover Set", "Sheet Set", "Quilt", "Pillow Pair", "Weighted Blanket"],
        adjectives: &["Washed", "Crisp", "Cosy", "Hotel", "Classic"],
        model_prefixes: &["L"],
        title: "{brand} {adj} {material} {noun}, {size}, {colour}",
        attributes: &[
            AttributeSpec { name: "size", values: &["Twin", "Full", "Queen", "King"], follows_price: true },
            AttributeSpec { name: "material", values: &["Brushed Cotton", "Cotton Percale", "Cotton Sateen", "Bamboo Lyocell", "Linen"], follows_price: true },
            AttributeSpec { name: "colour", values: &["White", "Oat", "Sage", "Charcoal", "Dusty Blue"], follows_price: false },
        ],
        leads: &[
            "A {size} {noun_lower} in {colour} {material} from {brand}.",
            "The {brand} {adj_lower} {noun_lower} is woven from {material}.",
        ],
        details: &[
            "Breathable enough for warm nights.",
            "Gets softer with every wash.",
            "Certified free of harmful substances.",
            "Hidden button closures keep the duvet in place.",
            "Deep pockets fit mattresses up to 40 cm.",
        ],
    },
    LeafSpec {
        department: "Office",
        leaf: "Printers",
        consumable: false,
        rebuy_days: 0,
        share: 0.7,
        price_cents: (7_900, 69_900),
        brands: &["Refilla", "Inkwell", "Docuro", "Printara", "Lasenta"],
        nouns: &["Inkjet Printer", "Laser Printer", "All-in-One Printer", "Photo Printer"],
        adjectives: &["Home", "Office", "Wireless", "Duplex", "Compact"],
        model_prefixes: &["P", "J", "L"],
        title: "{brand} {model} {adj} {noun}, {colour_mode}",
        attributes: &[
            AttributeSpec { name: "speed", values: &["10 ppm", "20 ppm", "30 ppm", "40 ppm"], follows_price: true },
            AttributeSpec { name: "colour_mode", values: &["Mono", "Colour"], follows_price: false },
            AttributeSpec { name: "connectivity", values: &["USB", "Wi-Fi", "Wi-Fi and Ethernet"], follows_price: false },
        ],
        leads: &[
            "The {brand} {model} is a {adj_lower} {noun_lower} that prints {speed}.",
            "A {colour_mode} {noun_lower} from {brand} with {connectivity} connectivity.",
        ],
        details: &[
            "Automatic two-sided printing saves paper.",
            "Print from a phone with the companion app.",
            "The 250-sheet tray needs refilling less often.",
            "A flatbed scanner copies at 1200 dpi.",
            "Quiet mode keeps it discreet in a home office.",
        ],
    },
    LeafSpec {
        department: "Office",
        leaf: "Ink & Toner",
        consumable: true,
        rebuy_days: 60,
        share: 1.0,
        price_cents: (1_299, 8_999),
        brands: &["Refilla", "Inkwell", "Docuro", "Printara", "Lasenta"],
        nouns: &["Ink Cartridge", "Toner Cartridge", "Ink Multipack", "High-Yield Toner"],
        adjectives: &["Black", "Tri-Colour", "XL", "Standard", "Value"],
        model_prefixes: &["T", "C"],
        title: "{brand} {model} {adj} {noun}, {yield}",
        attributes: &[
            AttributeSpec { name: "yield", values: &["200 pages", "500 pages", "1,000 pages", "2,500 pages"], follows_price: true },
            AttributeSpec { name: "pack", values: &["Single", "Twin Pack", "Triple Pack"], follows_price: false },
        ],
        leads: &[
            "The {brand} {model} {adj} {noun_lower} lasts about {yield}.",
            "The {brand} {model} {noun_lower} yields about {yield}; sold as a {pack_lower}.",
        ],
        details: &[
            "Smudge-resistant prints that dry in seconds.",
            "Return empties in the prepaid recycling bag.",
            "Sealed for freshness; install within six months of opening.",
            "Sharp text and even greys for everyday documents.",
        ],
    },
    LeafSpec {
        department: "Outdoors",
        leaf: "Tents",
        consumable: false,
        rebuy_days: 0,
        share: 0.9,
        price_cents: (5_900, 64_900),
        brands: &["Campora", "Wildmere", "Ridgeway", "Northfell", "Talus Gear"],
        nouns: &["Backpacking Tent", "Dome Tent", "Family Tent", "Tunnel Tent"],
        adjectives: &["Ultralight", "Freestanding", "Three-Season", "Four-Season", "Quick-Pitch"],
        model_prefixes: &["T", "A", "R"],
        title: "{brand} {model} {adj} {noun}, {capacity}",
        attributes: &[
            AttributeSpec { name: "capacity", values: &["1-Person", "2-Person", "3-Person", "4-Person", "6-Person"], follows_price: true },
            AttributeSpec { name: "weight", values: &["1.1 kg", "1.6 kg", "2.4 kg", "3.9 kg", "6.8 kg"], follows_price: true },
            AttributeSpec { name: "colour", values: &["Forest Green", "Orange", "Sand", "Grey"], follows_price: false },
        ],
        leads: &[
            "The {brand} {model} is a {adj_lower} {capacity} {noun_lower} weighing {weight}.",
            "A {capacity} {noun_lower} from {brand} in {colour}.",
        ],
        details: &[
            "Colour-coded poles make pitching quick, even in the dark.",
            "Two doors and two vestibules keep gear dry.",
            "The 3000 mm flysheet shrugs off heavy rain.",
            "Mesh inner panels cut condensation on warm nights.",
            "Packs down small enough for a weekend rucksack.",
        ],
    },
    LeafSpec {
        department: "Outdoors",
        leaf: "Sleeping Bags",
        consumable: false,
        rebuy_days: 0,
        share: 0.8,
        price_cents: (3_900, 42_000),
        brands: &["Embercamp", "Drowse", "Ridgeway", "Northfell"],
        nouns: &["Mummy Sleeping Bag", "Rectangular Sleeping Bag", "Camping Quilt", "Double Sleeping Bag"],
        adjectives: &["Lightweight", "Compact", "Three-Season", "Winter", "Expedition"],
        model_prefixes: &["D", "S"],
        title: "{brand} {model} {adj} {noun}, {comfort}",
        attributes: &[
            AttributeSpec { name: "comfort", values: &["+10°C", "+5°C", "0°C", "-7°C", "-15°C"], follows_price: true },
            AttributeSpec { name: "fill", values: &["Synthetic", "600-fill Down", "800-fill Down"], follows_price: true },
            AttributeSpec { name: "colour", values: &["Red", "Blue", "Black", "Orange"], follows_price: false },
        ],
        leads: &[
            "A {adj_lower} {noun_lower} from {brand} with {fill} insulation, comfortable to {comfort}.",
            "The {brand} {model} keeps you warm down to {comfort} with {fill} fill.",
        ],
        details: &[
            "A draft collar and hood hold heat in.",
            "Two-way zips open it up on warm nights.",
            "Comes with a compression sack and a storage bag.",
            "The shell fabric repels light rain and tent condensation.",
        ],
    },
    LeafSpec {
        department: "Sports",
        leaf: "Running Shoes",
        consumable: false,
        rebuy_days: 0,
        share: 1.2,
        price_cents: (5_900, 22_000),
        brands: &["Kinsey", "Stridex", "Trailhawk", "Volta Run", "Aeropace"],
        nouns: &["Road Running Shoes", "Trail Running Shoes", "Racing Flats", "Stability Running Shoes"],
        adjectives: &["Cushioned", "Lightweight", "Responsive", "Waterproof"],
        model_prefixes: &["R", "V", "G"],
        title: "{brand} {model} {adj} {noun}, {fit}",
        attributes: &[
            AttributeSpec { name: "drop", values: &["4 mm", "6 mm", "8 mm", "10 mm"], follows_price: false },
            AttributeSpec { name: "fit", values: &["Men's", "Women's", "Unisex"], follows_price: false },
            AttributeSpec { name: "colour", values: &["Black", "White", "Volt Yellow", "Coral", "Navy"], follows_price: false },
        ],
        leads: &[
            "{brand} {model} {noun_lower} with a {drop} drop, {adj_lower} underfoot.",
            "The {brand} {model} are {adj_lower} {noun_lower} in {colour}.",
        ],
        details: &[
            "A breathable knit upper wraps the foot without pressure points.",
            "The foam midsole returns energy mile after mile.",
            "A grippy outsole holds on wet roads and gravel.",
            "Reflective details for early mornings.",
            "Fits true to size; go half a size up for long runs.",
        ],
    },
    LeafSpec {
        department: "Sports",
        leaf: "Fitness",
        consumable: false,
        rebuy_days: 0,
        share: 1.0,
        price_cents: (1_500, 39_900),
        brands: &["Balancia", "Corefit", "Pulseforge", "Ironleaf"],
        nouns: &["Adjustable Dumbbells", "Yoga Mat", "Kettlebell", "Resistance Band Set", "Foam Roller", "Jump Rope"],
        adjectives: &["Home", "Studio", "Travel", "Heavy-Duty", "Pro"],
        model_prefixes: &["F", "K"],
        title: "{brand} {adj} {noun} {model}, {colour}",
        attributes: &[
            AttributeSpec { name: "material", values: &["TPE", "EVA Foam", "Natural Rubber", "Cast Iron", "Steel"], follows_price: false },
            AttributeSpec { name: "colour", values: COLOURS, follows_price: false },
        ],
        leads: &[
            "A {adj_lower} {noun_lower} from {brand} made of {material}.",
            "The {brand} {noun_lower}, made for {adj_lower} workouts, in {colour}.",
        ],
        details: &[
            "Non-slip surfaces stay put on hard floors.",
            "Includes a printed guide with twenty exercises.",
            "Compact enough to store under a bed.",
            "Built to survive years of daily workouts.",
        ],
    },
    LeafSpec {
        department: "Books",
        leaf: "Fiction",
        consumable: false,
        rebuy_days: 0,
        share: 1.4,
        price_cents: (899, 2_999),
        brands: &["Tern House", "Bluequill Press", "Mossgate Publishing", "Lanternfield Books", "Harrow & Finch"],
        nouns: &["Lighthouse", "Orchard", "Cartographer", "Harbour", "Garden", "Archive", "Ferryman", "Clockmaker", "River", "Daughters", "Tide", "Observatory", "Island", "Letters", "Foundry", "Orchestra", "Meadow", "Station"],
        adjectives: &["Quiet", "Silver", "Last", "Hidden", "Northern", "Burning", "Paper", "Winter", "Salt", "Glass", "Distant", "Lost", "Midnight", "Borrowed", "Drowned", "Painted", "Second", "Amber"],
        model_prefixes: &["B"],
        title: "The {adj} {noun} ({format})",
        attributes: &[
            AttributeSpec { name: "format", values: &["Paperback", "Large Print", "Hardcover"], follows_price: true },
            AttributeSpec { name: "pages", values: &["224", "288", "320", "352", "416", "480"], follows_price: false },
            AttributeSpec { name: "genre", values: &["Literary Fiction", "Mystery", "Historical Fiction", "Science Fiction", "Fantasy", "Romance"], follows_price: false },
            AttributeSpec { name: "author", values: &["Mara Ellison", "Tobias Wren", "Ines Calloway", "Rafe Okonkwo", "Delia Marsh", "Jun Hadley", "Petra Lind", "Amos Treadwell", "Noor Castellan", "Hal Benedek"], follows_price: false },
        ],
        leads: &[
            "A {genre_lower} novel by {author}, published by {brand}.",
            "{author}'s {genre_lower} story of secrets and second chances, {pages} pages.",
        ],
        details: &[
            "Told across three summers and two continents.",
            "A book-club favourite with discussion questions at the back.",
            "The first in a planned trilogy.",
            "Praised for its warmth and its twist ending.",
            "Set in a small coastal town where everyone keeps a secret.",
        ],
    },
    LeafSpec {
        department: "Books",
        leaf: "Cooking",
        consumable: false,
        rebuy_days: 0,
        share: 0.8,
        price_cents: (1_499, 4_999),
        brands: &["Larder Books", "Saltbox Press", "Copperpot Editions", "Harrow & Finch"],
        nouns: &["Kitchen", "Table", "Bread", "Noodles", "Pantry", "Grill", "Vegetables", "Baking", "Soups", "Spices", "Dumplings", "Breakfasts"],
        adjectives: &["Weeknight", "Slow", "Coastal", "Fire", "Garden", "Small-Batch", "Market", "One-Pan", "Sunday", "Harvest", "Everyday", "Mountain"],
        model_prefixes: &["C"],
        title: "{adj} {noun}: {recipes} Recipes ({format})",
        attributes: &[
            AttributeSpec { name: "format", values: &["Paperback", "Hardcover"], follows_price: true },
            AttributeSpec { name: "recipes", values: &["60", "80", "100", "120", "150"], follows_price: true },
            AttributeSpec { name: "author", values: &["Lena Marchetti", "Kofi Adjei", "Sara Lindqvist", "Tomas Herrera", "Priya Raman", "Owen Fairbrother"], follows_price: false },
        ],
        leads: &[
            "{recipes} recipes from {author}, published by {brand}.",
            "{author} collects {recipes} {adj_lower} recipes in this {format_lower} from {brand}.",
        ],
        details: &[
            "Every recipe has a full-page photograph.",
            "Most dishes take under forty minutes.",
            "Includes a chapter on stocking the pantry.",
            "Vegetarian options are marked throughout.",
            "A lay-flat binding stays open on the counter.",
        ],
    },
    LeafSpec {
        department: "Beauty",
        leaf: "Skincare",
        consumable: true,
        rebuy_days: 45,
        share: 1.2,
        price_cents: (899, 8_900),
        brands: &["Dewfield", "Verdane", "Lumea", "Botanique Labs", "Clarisse"],
        nouns: &["Facial Cleanser", "Moisturiser", "Serum", "SPF 30 Sunscreen", "Night Cream", "Toner"],
        adjectives: &["Hydrating", "Gentle", "Brightening", "Renewing", "Calming"],
        model_prefixes: &["D"],
        title: "{brand} {adj} {ingredient} {noun}, {volume}",
        attributes: &[
            AttributeSpec { name: "volume", values: &["30 ml", "50 ml", "100 ml", "150 ml", "200 ml"], follows_price: false },
            AttributeSpec { name: "skin_type", values: &["All Skin Types", "Dry Skin", "Oily Skin", "Sensitive Skin"], follows_price: false },
            AttributeSpec { name: "ingredient", values: &["Hyaluronic Acid", "Niacinamide", "Vitamin C", "Ceramide", "Green Tea", "Aloe"], follows_price: false },
        ],
        leads: &[
            "A {adj_lower} {noun_lower} from {brand} with {ingredient}, for {skin_type_lower}.",
            "{brand}'s {ingredient} {noun_lower} comes in a {volume} bottle.",
        ],
        details: &[
            "Fragrance-free and dermatologist-tested.",
            "Absorbs quickly without a greasy finish.",
            "Use morning and evening after cleansing.",
            "The recyclable bottle has a pump that wastes nothing.",
        ],
    },
    LeafSpec {
        department: "Pets",
        leaf: "Pet Food",
        consumable: true,
        rebuy_days: 28,
        share: 1.1,
        price_cents: (1_299, 8_999),
        brands: &["Nutripaw", "Barkley Farms", "Whiskerwell", "Pawsome Kitchen", "Trueleaf Pet"],
        nouns: &["Dry Dog Food", "Wet Cat Food", "Dry Cat Food", "Puppy Food", "Senior Dog Food"],
        adjectives: &["Grain-Free", "Chicken & Rice", "Salmon", "Lamb", "Turkey", "Sensitive Stomach"],
        model_prefixes: &["N"],
        title: "{brand} {adj} {noun}, {weight}",
        attributes: &[
            AttributeSpec { name: "weight", values: &["1.5 kg", "3 kg", "6 kg", "12 kg"], follows_price: true },
            AttributeSpec { name: "protein", values: &["22%", "26%", "30%", "34%"], follows_price: false },
        ],
        leads: &[
            "{brand} {adj_lower} recipe with {protein} protein, in a {weight} bag.",
            "A complete {noun_lower} from {brand}, {adj_lower} recipe.",
        ],
        details: &[
            "No artificial colours, flavours or preservatives.",
            "Added omega-3 for a healthy coat.",
            "Made in small batches with traceable ingredients.",
            "Kibble sized for easy chewing.",
        ],
    },
    LeafSpec {
        department: "Pets",
        leaf: "Pet Toys",
        consumable: false,
        rebuy_days: 0,
        share: 0.7,
        price_cents: (499, 3_999),
        brands: &["Chewcraft", "Purrlo", "Fetchwell", "Tailwind Pets"],
        nouns: &["Chew Toy", "Rope Toy", "Puzzle Feeder", "Cat Wand", "Plush Toy", "Ball Launcher"],
        adjectives: &["Durable", "Squeaky", "Interactive", "Eco", "Treat-Dispensing"],
        model_prefixes: &["P"],
        title: "{brand} {adj} {noun} {model}, {size}",
        attributes: &[
            AttributeSpec { name: "size", values: &["Small", "Medium", "Large"], follows_price: true },
            AttributeSpec { name: "colour", values: &["Red", "Teal", "Yellow", "Purple"], follows_price: false },
        ],
        leads: &[
            "A {adj_lower} {noun_lower} from {brand} in {colour}.",
            "The {brand} {noun_lower} keeps pets busy; size {size_lower}.",
        ],
        details: &[
            "Made from non-toxic, pet-safe materials.",
            "Dishwasher safe for easy cleaning.",
            "Built to stand up to enthusiastic chewers.",
            "Encourages play and keeps boredom away.",
        ],
    },
    LeafSpec {
        department: "Toys",
        leaf: "Building Sets",
        consumable: false,
        rebuy_days: 0,
        share: 0.9,
        price_cents: (1_499, 19_999),
        brands: &["Tinker Town", "Stackwise", "Brikko", "Blocksmith"],
        nouns: &["Castle Set", "Space Station Set", "City Street Set", "Dinosaur Set", "Race Car Set", "Robot Kit"],
        adjectives: &["Starter", "Creative", "Explorer", "Deluxe", "Mega"],
        model_prefixes: &["B", "K"],
        title: "{brand} {adj} {noun} {model}, {pieces}",
        attributes: &[
            AttributeSpec { name: "pieces", values: &["150 pieces", "300 pieces", "600 pieces", "1,200 pieces", "2,000 pieces"], follows_price: true },
            AttributeSpec { name: "age", values: &["4+", "6+", "8+", "12+"], follows_price: true },
        ],
        leads: &[
            "A {adj_lower} {noun_lower} from {brand} with {pieces}, for ages {age}.",
            "The {brand} {noun_lower} builds into three different models; {pieces}.",
        ],
        details: &[
            "Bricks work with every other {brand} set.",
            "Step-by-step picture instructions are included.",
            "Moving parts and mini-figures add to the play.",
            "Sorted into numbered bags for easy building.",
        ],
    },
];

/// Sentences any product's description may end with.
pub(super) const GENERIC_DETAILS: &[&str] = &[
    "Backed by a two-year {brand} warranty.",
    "Ships in plastic-free packaging.",
    "Free returns within 30 days.",
];

/// Co-purchase patterns: after buying in the first leaf, a shopper visits the second
/// leaf within a few days with the given probability (leaf names from [`LEAVES`]).
pub const COMPLEMENTS: &[(&str, &str, f32)] = &[
    ("Cameras", "Memory Cards", 0.65),
    ("Cameras", "Camera Bags", 0.4),
    ("Printers", "Ink & Toner", 0.7),
    ("Coffee Machines", "Coffee & Tea", 0.7),
    ("Smartphones", "Phone Cases", 0.6),
    ("Headphones", "Phone Cases", 0.2),
    ("Tents", "Sleeping Bags", 0.5),
    ("Running Shoes", "Fitness", 0.35),
    ("Pet Food", "Pet Toys", 0.2),
];

/// First names of simulated shoppers.
pub(super) const FIRST_NAMES: &[&str] = &[
    "Maya", "Theo", "Ava", "Idris", "Lena", "Marco", "Nia", "Oskar", "Priya", "Rowan", "Sofia",
    "Tariq", "Uma", "Viktor", "Wren", "Yusuf", "Zoe", "Anya", "Bruno", "Clara", "Dev", "Elif",
    "Felix", "Greta", "Hugo", "Iris", "Jonah", "Kira", "Luca", "Mina",
];

/// Letters used as surname initials of simulated shoppers.
pub(super) const INITIALS: &[u8] = b"ABCDEFGHJKLMNOPRSTVWY";
