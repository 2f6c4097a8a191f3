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
