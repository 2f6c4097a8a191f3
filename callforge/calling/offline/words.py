"""Word lists that offline values are drawn from (written for this project). A seeded draw picks
by index, so editing a list changes the values every seed gives."""

CITIES = ["Paris", "London", "Tokyo", "New York", "Berlin", "Madrid", "Toronto", "Sydney", "Seoul", "Mumbai",
          "Cairo", "Lima", "Nairobi", "Oslo", "Lisbon", "Chicago", "Austin", "Singapore", "Dublin", "Vienna",
          "Prague", "Bangkok", "Mexico City", "Buenos Aires", "Cape Town", "Istanbul", "Zurich", "Osaka",
          "Vancouver", "Amsterdam", "Copenhagen", "Helsinki", "Warsaw", "Athens", "Seattle", "Boston"]
COUNTRIES = ["France", "Japan", "Germany", "Canada", "Brazil", "India", "Kenya", "Spain", "Italy", "Mexico",
             "Australia", "Norway", "Egypt", "Peru", "Portugal", "Ireland", "Vietnam", "Chile", "Poland", "Greece"]
COUNTRY_CODES = ["US", "FR", "JP", "DE", "CA", "BR", "IN", "KE", "ES", "IT", "MX", "AU", "NO", "GB", "PT"]
CURRENCIES = ["USD", "EUR", "JPY", "GBP", "CAD", "AUD", "CHF", "INR", "BRL", "SEK", "NOK", "MXN"]
LANGUAGES = ["English", "Spanish", "French", "German", "Japanese", "Portuguese", "Italian", "Korean", "Hindi"]
LANG_CODES = ["en", "es", "fr", "de", "ja", "pt", "it", "ko", "hi", "nl"]
FIRST = ["Alice", "Bruno", "Chen", "Dana", "Elif", "Farah", "Gabriel", "Hana", "Ivan", "Jonas", "Keiko",
         "Liam", "Maya", "Nikhil", "Olga", "Priya", "Rafael", "Sofia", "Tariq", "Uma", "Victor", "Wen", "Yusuf", "Zoe"]
LAST = ["Garcia", "Smith", "Tanaka", "Müller", "Okafor", "Rossi", "Kowalski", "Nguyen", "Silva", "Patel",
        "Johansson", "Dubois", "Kim", "Haddad", "Lopez", "Novak", "Ibrahim", "Murphy", "Chen", "Andersen"]
COMPANIES = ["Acme Corp", "Northwind", "Globex", "Initech", "Umbrella Labs", "Stark Industries", "Wayne Logistics",
             "Blue Harbor", "Redwood Analytics", "Summit Foods", "Orbit Media", "Pioneer Health"]
PRODUCTS = ["wireless headphones", "running shoes", "coffee grinder", "standing desk", "laptop stand", "yoga mat",
            "electric kettle", "mechanical keyboard", "backpack", "smartwatch", "desk lamp", "water bottle"]
TOPICS = ["renewable energy", "machine learning", "climate policy", "space exploration", "urban gardening",
          "electric vehicles", "remote work", "personal finance", "marathon training", "quantum computing",
          "healthy recipes", "jazz history", "cybersecurity", "photography tips", "budget travel"]
GENRES = ["jazz", "rock", "classical", "hip hop", "comedy", "drama", "thriller", "science fiction", "documentary"]
COLORS = ["red", "blue", "green", "black", "white", "silver", "navy", "orange", "purple", "beige"]
STREETS = ["Maple Street", "Oak Avenue", "Station Road", "Harbor Lane", "Elm Drive", "King Street", "Park Road"]
WORDS = ["alpha", "harbor", "summit", "cedar", "nova", "atlas", "ember", "falcon", "quartz", "willow", "delta",
         "orbit", "pixel", "lumen", "tundra", "sierra", "cobalt", "maple", "aurora", "basalt", "canyon", "dune",
         "echo", "fjord", "glacier", "horizon", "indigo", "juniper", "kestrel", "lagoon", "meadow", "nimbus",
         "onyx", "prairie", "quill", "raven", "saffron", "timber", "umber", "vertex", "wren", "yarrow", "zephyr",
         "acorn", "beacon", "copper", "drift", "fable", "garnet", "hollow", "ivory", "jasper", "lantern", "marble"]
STATUSES = ["active", "pending", "completed", "cancelled", "shipped", "processing"]
UNITS = ["metric", "imperial"]
DOMAINS = ["example.com", "mail.test", "acme.io", "northwind.org", "globex.net"]
NOTES = ["Please handle this before Friday.", "Leave it at the front desk.", "Window seat if possible.",
         "Call me when it is ready.", "This is a gift, no receipt please.", "Urgent — needed for tomorrow's meeting.",
         "Second attempt, the first one bounced.", "Keep it short and friendly.", "Ask for the manager if needed.",
         "Budget is tight this month.", "Please confirm by email.", "Use the side entrance.",
         "The team meets on Thursdays.", "Quiet room, away from the elevator.", "Include last year's numbers.",
         "Ring twice, the bell is weak.", "No nuts — allergy.", "Follow up next week if nothing changes."]
CATEGORIES = ["electronics", "books", "groceries", "home and garden", "sports", "toys", "health", "travel", "office"]
TIERS = ["standard", "premium", "basic", "deluxe", "economy", "compact", "express", "classic"]
WEATHER = ["sunny", "partly cloudy", "overcast", "light rain", "thunderstorms", "snow showers", "fog"]
EXPRESSIONS = ["x**2 + 3*x - 4", "sin(x) * exp(x)", "3*x**3 - 2*x", "log(x + 1)", "x / (1 + x**2)"]
VARIABLES = ["x", "t", "y", "z"]
TICKERS = ["AAPL", "MSFT", "GOOGL", "AMZN", "TSLA", "NVDA", "IBM", "SAP"]
AIRPORTS = ["JFK", "LHR", "CDG", "HND", "FRA", "SFO", "SIN", "DXB", "MAD", "YYZ"]
AIRLINES = ["LH", "AF", "BA", "UA", "NH"]

# Words for parameters whose name says what they are; a value from another list (a city as a unit)
# reads as a slip, so each meaning has its own list.
# Units by what they measure: a conversion's two units come from one list.
UNIT_DIMENSIONS = [["kilograms", "pounds", "grams", "ounces"], ["kilometers", "miles", "meters", "feet", "inches"],
                   ["liters", "gallons", "milliliters", "cups", "tablespoons"], ["celsius", "fahrenheit", "kelvin"],
                   ["degrees", "radians"]]
MEASURE_UNITS = [u for dim in UNIT_DIMENSIONS[:4] for u in dim]
KITCHEN_UNITS = ["cups", "tablespoons", "teaspoons", "grams", "ounces", "milliliters"]
ANGLE_UNITS = UNIT_DIMENSIONS[4]
UNIT_DIMENSIONS.append(KITCHEN_UNITS)
REASONS = ["change of plans", "no longer needed", "scheduling conflict", "entered by mistake", "duplicate request",
           "suspected fraud", "arrived damaged", "found a better option", "moving abroad", "budget cut"]
CAUSES = ["clean water", "animal welfare", "education", "disaster relief", "climate action", "child health",
          "food security", "mental health", "ocean conservation", "literacy"]
TIMEZONES = ["Europe/Paris", "Europe/London", "Asia/Tokyo", "America/New_York", "America/Chicago",
             "America/Los_Angeles", "Australia/Sydney", "Asia/Kolkata", "Africa/Nairobi", "America/Sao_Paulo"]
PETS = ["dog", "cat", "rabbit", "parrot", "guinea pig", "hamster"]
LIVESTOCK = ["cattle", "sheep", "goats", "pigs", "chickens", "dairy cows"]
BREEDS = ["Labrador Retriever", "Siamese", "Border Collie", "Maine Coon", "Beagle", "Holland Lop", "Golden Retriever"]
WILD_SPECIES = ["Panthera leo", "Ailuropoda melanoleuca", "Haliaeetus leucocephalus", "Delphinus delphis",
                "Quercus robur", "Apis mellifera"]
ORGANISMS = ["Homo sapiens", "Mus musculus", "Drosophila melanogaster", "Arabidopsis thaliana", "Danio rerio"]
GENES = ["BRCA1", "TP53", "EGFR", "CFTR", "APOE", "MYC", "KRAS"]
CROPS = ["wheat", "maize", "rice", "soybeans", "potatoes", "tomatoes", "barley", "coffee", "grapes", "lettuce"]
CUISINES = ["Italian", "Japanese", "Mexican", "Indian", "Thai", "Lebanese", "French", "Ethiopian", "Korean"]
INGREDIENTS = ["flour", "butter", "olive oil", "chickpeas", "basil", "garlic", "brown rice", "eggs", "spinach",
               "lemon", "coconut milk", "oats"]
SPORTS = ["football", "basketball", "tennis", "cricket", "baseball", "ice hockey", "rugby", "volleyball"]
TEAMS = ["Harbor City FC", "Northside Rovers", "Riverside United", "Summit Athletic", "Lakeside Wanderers",
         "Redwood Rangers", "Eastbay Falcons", "Capital Lions"]
COMPETITIONS = ["league", "national cup", "continental cup", "friendly", "playoffs"]
SPORT_SEASONS = ["2022-23", "2023-24", "2024-25", "2024", "2025"]
WEATHER_SEASONS = ["spring", "summer", "autumn", "winter"]
CAR_MAKES = ["Toyota", "Volkswagen", "Ford", "Honda", "Hyundai", "Peugeot", "Kia", "Mazda", "Subaru", "Skoda"]
CAR_MODELS = ["Corolla", "Golf", "Focus", "Civic", "Tucson", "308", "Sportage", "CX-5", "Outback", "Octavia"]
MATERIALS = ["glass", "cardboard", "aluminium cans", "batteries", "plastic bottles", "old electronics", "textiles"]
MUSCLE_GROUPS = ["chest", "back", "shoulders", "glutes", "hamstrings", "core", "biceps", "calves"]
FITNESS_METRICS = ["steps", "active minutes", "sleep hours", "water intake", "calories burned"]
SYSTEM_METRICS = ["cpu_usage", "memory_used", "error_rate", "request_latency_p95", "disk_free"]
PLATFORMS = ["PC", "PlayStation 5", "Xbox Series X", "Nintendo Switch", "iOS", "Android"]
WASH_PROGRAMS = ["cotton 40", "quick wash", "delicates", "eco 40-60", "wool", "synthetics"]
STUDY_PROGRAMS = ["computer science", "nursing", "mechanical engineering", "economics", "architecture", "biology"]
BENEFIT_PROGRAMS = ["housing assistance", "childcare support", "food assistance", "energy bill support"]
SHAPES = ["rectangle", "circle", "triangle", "trapezoid", "ellipse", "square"]
CALM_THEMES = ["sleep", "stress relief", "focus", "gratitude", "body scan"]
GAME_THEMES = ["strategy", "fantasy", "party", "cooperative", "trading", "mystery"]
TRADES = ["plumber", "electrician", "carpenter", "painter", "roofer", "locksmith", "tiler"]
EMOJI = [":palm_tree:", ":tada:", ":face_with_thermometer:", ":coffee:", ":car:", ":headphones:"]
DICTIONARY_WORDS = ["serendipity", "ephemeral", "resilience", "ubiquitous", "meticulous", "candid", "eloquent"]
PERIODS = ["Renaissance", "Baroque", "Impressionism", "Modernism", "the Middle Ages", "the Edo period"]
EXCHANGES = ["NASDAQ", "NYSE", "LSE", "XETRA", "TSE"]
DISTRICTS = ["District 3", "Ward 12", "North County", "Central District", "Precinct 7"]
NEIGHBORHOODS = ["Old Town", "Riverside", "Harbor District", "Greenwood", "Hillcrest", "Midtown"]
JURISDICTIONS = ["England and Wales", "California", "New York", "Ontario", "European Union", "Germany"]
COURT_LEVELS = ["supreme court", "court of appeal", "district court", "high court"]
GRADE_LEVELS = ["grade 5", "grade 8", "grade 10", "grade 12", "first-year university"]
SPECIALTIES = ["cardiology", "dermatology", "pediatrics", "orthopedics", "family medicine", "neurology"]
PRACTICE_AREAS = ["employment law", "family law", "immigration", "intellectual property", "real estate", "tax law"]
DOSAGES = ["500 mg twice daily", "1 tablet every 8 hours", "10 mg once daily", "2 puffs as needed", "5 ml at bedtime"]
DRUGS = ["ibuprofen", "amoxicillin", "metformin", "atorvastatin", "cetirizine", "omeprazole", "paracetamol"]
AUDIENCES = ["busy parents", "college students", "small business owners", "retirees", "remote workers", "gamers"]
CARRIERS = ["DHL", "UPS", "FedEx", "USPS", "Royal Mail", "La Poste"]
BRANCHES = ["main", "develop", "release/2.1", "feature/login-form", "hotfix/payment-timeout"]
REPOSITORIES = ["acme/web-store", "northwind/api-gateway", "globex/data-pipeline", "initech/mobile-app"]
FOLDERS = ["Inbox", "Receipts", "Travel", "Newsletters", "Work/Projects", "Archive"]
TEST_FILTERS = ["test_checkout", "integration", "not slow", "tests/api", "smoke"]
CHANNELS = ["#ops-alerts", "#on-call", "pagerduty", "sms", "email"]
ALIASES = ["spring-sale", "team-offsite", "docs-home", "q3-report", "launch-day"]
PARTIES = ["Acme Corp", "Northwind Ltd", "Globex GmbH", "Blue Harbor LLC", "Summit Foods Inc"]
TITLES = ["Quarterly planning review", "Fix checkout timeout", "Team offsite", "Spring fundraiser",
          "Weekly grocery list", "Onboarding checklist", "Roof repair savings", "Launch retrospective"]
FILM_TITLES = ["The Silent Harbor", "Winter Light", "Midnight Express Line", "Paper Moons", "The Long Summer"]
SPECIAL_REQUESTS = ["Late check-in around 11 pm, please.", "A quiet room on a high floor.", "Extra pillows, please.",
                    "Baby cot in the room.", "Early breakfast at 6 am."]
MEMOS = ["Rent for March", "Dinner split", "Invoice 2024-117", "Birthday gift", "Utilities share"]
DEDICATIONS = ["In memory of Grandma Rose", "For the Garcia family", "Happy birthday, Sam!", "In honour of my teachers"]
SECRETS = ["meet me at noon", "the launch date is moving", "wifi password is on the fridge", "draft salary figures"]
VERSIONS = ["1.4.2", "2.0.0", "3.11.5", "0.9.1", "5.2.0"]
NEWS_SOURCES = ["Reuters", "Associated Press", "BBC News", "Le Monde", "The Guardian"]
ALLERGENS = ["peanuts", "tree nuts", "gluten", "shellfish", "dairy", "eggs", "soy"]
AMENITIES = ["free wifi", "pool", "parking", "gym", "breakfast included", "airport shuttle", "pet friendly"]
SYMPTOMS = ["headache", "fever", "sore throat", "fatigue", "yellow leaf spots", "wilting", "rash", "cough"]
SKILLS = ["first aid", "python", "carpentry", "event planning", "teaching", "translation", "data analysis"]
POLLUTANTS = ["pm2_5", "pm10", "ozone", "nitrogen dioxide", "sulfur dioxide"]
HOSTS = ["web-01.internal", "db-02.internal", "api-gw-1", "worker-17", "vpn-edge-2"]
JOB_TITLES = ["data analyst", "registered nurse", "backend engineer", "project manager", "sales associate", "accountant"]
SONGS = ["Harbor Lights", "Slow Morning", "Paper Planes Again", "Northern Line", "Golden Hour"]
SEATS = ["12A", "12B", "7C", "14F", "3D", "21E"]
CODE_SNIPPETS = ["def add(a, b): return a+b", "const total = items.reduce((s, x) => s + x.price, 0);",
                 "for i in range(10): print(i*i)", "SELECT name FROM users WHERE active = 1;"]
CONTAINER_IMAGES = ["nginx:1.27", "redis:7.2", "postgres:16", "ghcr.io/acme/web:2.3.1", "python:3.12-slim"]
BUCKETS = ["acme-backups", "northwind-logs", "globex-media-assets", "initech-reports"]
CLUSTERS = ["prod-eu-1", "staging-us-east", "analytics-cluster", "edge-apac"]
SERVICES = ["checkout-api", "auth-service", "search-indexer", "billing-worker", "web-frontend"]
PACKAGES = ["requests", "lodash", "numpy", "express", "serde", "pandas"]
DECKS = ["Spanish verbs", "Anatomy basics", "World capitals", "Organic chemistry"]
PLAYLISTS = ["Road trip mix", "Focus beats", "Sunday morning", "Workout boost"]
SCENES = ["Movie night", "Good morning", "Dinner party", "Away mode"]
ROOMS = ["living room", "kitchen", "bedroom", "home office", "nursery"]
ROADS = ["Ring Road", "Highway 101", "A40", "Main Street", "Harbor Bridge"]
RELIGIONS = ["Buddhism", "Hinduism", "Judaism", "Sikhism", "Shinto", "Jainism"]
FOODS = ["banana", "brown rice", "chicken breast", "greek yogurt", "lentil soup", "almonds"]
VACCINES = ["rabies", "distemper", "parvovirus", "feline leukemia", "kennel cough"]
MUSEUMS = ["Louvre", "British Museum", "Rijksmuseum", "Prado Museum", "Museum of Modern Art"]
CAMPAIGNS = ["Spring Sale 2025", "Back to School", "Holiday Gift Guide", "New Store Launch"]
PROVIDERS = ["City General Hospital", "Riverside Clinic", "Northside Dental", "Harbor Physiotherapy"]
PERMITS = ["building", "street party", "food stall", "renovation", "signage"]
ACTIVITY_TYPES = ["running", "cycling", "swimming", "yoga", "hiking", "strength training"]
ROOM_TYPES = ["double", "twin", "single", "suite", "family room"]
TEST_TYPES = ["blood panel", "urinalysis", "cholesterol", "vitamin D", "thyroid function"]
TAGS = ["work", "family", "urgent", "receipts", "ideas", "travel", "follow-up"]
ATTRIBUTES = ["price", "battery life", "weight", "screen size", "warranty", "storage"]
ATTACHMENTS = ["/home/maya/documents/report.pdf", "/home/liam/documents/invoice.pdf", "/home/zoe/documents/slides.pptx"]
REGEXES = [r"^[A-Z]{3}-\d{4}$", r"\b\w+@\w+\.com\b", r"^\d{5}$", r"colou?r"]
REGEX_SAMPLES = ["ABC-1234", "hello@example.com", "90210", "colour", "color"]
REGEX_FLAGS = ["i", "m", "s", "x"]
MENTIONS = ["@maya", "@liam", "@ops-team", "@zoe"]
FIELD_NAMES = ["id", "name", "price", "created_at", "status"]
ENTITY_TYPES = ["email", "phone_number", "person_name", "credit_card", "address"]
CLAUSE_TYPES = ["termination", "confidentiality", "liability", "payment terms", "governing law"]
EQUIPMENT = ["dumbbells", "resistance bands", "kettlebell", "pull-up bar", "yoga mat"]
PLAYER_METRICS = ["goals", "assists", "minutes played", "shots on target", "pass accuracy"]
CAR_MODEL_NAMES = ["Toyota Corolla", "Volkswagen Golf", "Honda Civic", "Ford Focus", "Kia Sportage"]
PREFIXES = ["logs/2024/", "uploads/images/", "backups/daily/", "reports/q3/"]
SAMPLE_KINDS = ["blood", "soil", "water", "saliva"]
UUID_VERSIONS = ["4", "7", "1"]
EXPLANATIONS = ["Worked out from the inputs with the standard formula", "Based on today's published rates",
                "Rounded to two decimal places", "Estimated from the last five years of data",
                "Assumes the values you gave stay constant"]
FINDINGS = ["nothing unusual", "one entry needs a second look", "a possible duplicate", "a missing contact field",
            "an expired certificate", "two minor warnings"]
PII_FINDINGS = ["an email address", "a phone number", "a street address", "a person's name", "a card number"]
OUTPUTS = ["Here is a short draft ready to send", "A three-line summary of the main points",
           "The text in the requested style", "A version trimmed to the key facts"]
PASSWORDS = ["vR7#kq2Lm!x9", "T4u$wz8Np1eQ", "h9G&c3Vb6sYd", "Mq2!rX7tKf5w", "p8Z@e4Lj1nHc"]
ISSUES = ["The kitchen tap keeps dripping.", "Heating does not come on in the bedroom.", "Login fails after the update.",
          "The front door lock sticks.", "Water is leaking under the sink."]
JOB_DESCRIPTIONS = ["Replace two cracked roof tiles.", "Fit a new bathroom extractor fan.", "Repaint the hallway walls.",
                    "Fix a leaking radiator valve."]
SECTIONS = ["North Stand", "Block 112", "Upper Tier", "Section C", "Main Floor"]
