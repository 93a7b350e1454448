/** Word lists for the demo generator. Plain data; order matters for determinism. */

export const FIRST_NAMES: readonly string[] = [
  'James', 'Mary', 'John', 'Patricia', 'Robert', 'Jennifer', 'Michael', 'Linda', 'William', 'Elizabeth',
  'David', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen',
  'Daniel', 'Nancy', 'Matthew', 'Lisa', 'Anthony', 'Betty', 'Mark', 'Sandra', 'Paul', 'Ashley',
  'Steven', 'Emily', 'Andrew', 'Michelle', 'Joshua', 'Amanda', 'Kevin', 'Melissa', 'Brian', 'Stephanie',
  'George', 'Rebecca', 'Oliver', 'Amelia', 'Harry', 'Olivia', 'Jack', 'Isla', 'Noah', 'Emma',
  'Lukas', 'Mia', 'Leon', 'Hannah', 'Jonas', 'Lea', 'Lucas', 'Chloé', 'Hugo', 'Léa',
  'Louis', 'Manon', 'Daan', 'Sanne', 'Sem', 'Fleur', 'Pablo', 'Lucía', 'Mateo', 'Sofía',
  'Álvaro', 'Martina', 'Liam', 'Zoë', 'Ethan', 'Ava', 'Chen', 'Aiko', 'Raj', 'Priya',
  'Sean', 'Siobhán', 'Björn', 'Astrid', 'João', 'Ana', 'Marco', 'Giulia', 'Mohammed', 'Fatima',
];

export const LAST_NAMES: readonly string[] = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez',
  'Hernandez', 'Lopez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee',
  'Thompson', 'White', 'Harris', 'Clark', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', 'King',
  'Wright', 'Scott', 'Green', 'Baker', 'Adams', 'Nelson', 'Hill', 'Campbell', 'Mitchell', 'Roberts',
  'Evans', 'Hughes', 'Edwards', 'Wood', "O'Brien", "O'Connor", 'Murphy', 'Kelly', 'Walsh', 'Byrne',
  'Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schäfer', 'Koch',
  'Dubois', 'Durand', 'Lefèvre', 'Moreau', 'Laurent', 'Bernard', 'de Jong', 'Jansen', 'de Vries', 'van Dijk',
  'Bakker', 'Visser', 'Fernández', 'González', 'Sánchez', 'Pérez', 'Gómez', 'Ruiz', 'Rossi', 'Russo',
  'Ferrari', 'Esposito', 'Nguyen', 'Tanaka', 'Sato', 'Kim', 'Park', 'Singh', 'Patel', 'Andersson',
  'Johansson', 'Nilsson', 'Silva', 'Santos', 'Oliveira', 'Wang', 'Li', 'Zhang', 'Cohen', 'Novak',
];

/** Company names; some need CSV quoting on purpose (commas, quotes, non-ASCII). */
export const COMPANIES: readonly string[] = [
  'Acme Corp', 'Globex', 'Initech', 'Umbrella Group', 'Hooli', 'Stark Industries', 'Wayne Enterprises',
  'Wonka Industries', 'Soylent Ltd', 'Cyberdyne Systems', 'Tyrell Corp', 'Aperture Labs', 'Vandelay Industries',
  'Pied Piper', 'Dunder Mifflin', 'Gringotts', 'Oceanic Airlines', 'Monarch Solutions', 'Blue Sun Corp',
  'Northwind Traders', 'Contoso', 'Fabrikam', 'Tailspin Toys', 'Adventure Works', 'Litware',
  'Smith, Jones & Partners', 'Baker, Hill and Co', 'The "Good" Coffee Company', 'Müller & Söhne GmbH',
  'Café Lumière SARL', 'Van der Berg B.V.', 'Hernández y Asociados S.L.', 'Nordic Design AB',
  'Brightside Analytics', 'Greenleaf Organics', 'Harbor & Finch', 'Redwood Robotics', 'Silverline Logistics',
  'Summit Health', 'Quantum Dynamics', 'Atlas Outdoor', 'Pinecrest Dental', 'Riverbend Realty',
  'Copperfield Media', 'Lighthouse Learning', 'Maple Street Bakery', 'Orbit Software', 'Sterling Legal',
  'Trailhead Bikes', 'Evergreen Insurance', 'Kite & Key Studio', 'Polar Foods', 'Sunrise Yoga',
];

export const COUNTRY_WEIGHTS: readonly (readonly [string, number])[] = [
  ['US', 40], ['GB', 11], ['DE', 8], ['FR', 6], ['CA', 6], ['AU', 4], ['NL', 4], ['ES', 3.5],
  ['IT', 3], ['SE', 2], ['IE', 2], ['BE', 1.5], ['AT', 1], ['CH', 1], ['DK', 1], ['NO', 1],
  ['BR', 1.5], ['MX', 1], ['IN', 1.5], ['JP', 1], ['SG', 0.5], ['NZ', 0.5], ['PL', 0.5], ['PT', 0.5],
];

/** Countries whose customers mostly pay in EUR / GBP (the rest pay in USD). */
export const EUR_COUNTRIES: ReadonlySet<string> = new Set(['DE', 'FR', 'NL', 'ES', 'IT', 'IE', 'BE', 'AT', 'PT']);
export const GBP_COUNTRIES: ReadonlySet<string> = new Set(['GB']);

export const EMAIL_DOMAINS: readonly (readonly [string, number])[] = [
  ['example.com', 55], ['example.org', 15], ['example.net', 15], ['mail.example', 10], ['corp.example', 5],
];

/** HubSpot-style lifecycle stages in funnel order. */
export const LIFECYCLE_STAGES = [
  'subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer', 'evangelist',
] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** Lowercase ASCII form of a name for an email local part: "O'Brien" → "obrien", "Müller" → "muller". */
export function emailSafe(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}
