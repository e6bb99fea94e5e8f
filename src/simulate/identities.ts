/**
 * Invented people: BSNs from the range reserved for testing (999xxxxxx) that pass the 11-test, names and
 * addresses assembled from common Dutch words. No real person's data is used or produced.
 */
import type { Day } from '../domain/calendar.js';
import type { Address, Person, Relatie } from './model.js';
import type { Random } from './random.js';

/**
 * Every BSN in 999000000–999999999 that passes the 11-test (90,909 of them), shuffled by the seed.
 * A run with more clients than this reuses numbers (documented in README).
 */
export function testBsnPool(random: Random): Int32Array {
  const out: number[] = [];
  // 999 d4..d8 check: 9*9 + 8*9 + 7*9 = 216
  for (let mid = 0; mid < 100_000; mid++) {
    let sum = 216;
    let m = mid;
    for (let w = 2; w <= 6; w++) {
      sum += w * (m % 10);
      m = Math.floor(m / 10);
    }
    const check = sum % 11;
    if (check === 10) continue;
    out.push(999_000_000 + mid * 10 + check);
  }
  const pool = Int32Array.from(out);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    const t = pool[i] as number;
    pool[i] = pool[j] as number;
    pool[j] = t;
  }
  return pool;
}

const ACHTERNAMEN = [
  'Jansen',
  'Bakker',
  'Visser',
  'Smit',
  'Meijer',
  'Mulder',
  'Bos',
  'Vos',
  'Peters',
  'Hendriks',
  'Dekker',
  'Brouwer',
  'Dijkstra',
  'Koster',
  'Prins',
  'Huisman',
  'Kok',
  'Schouten',
  'Post',
  'Kuiper',
  'Veenstra',
  'Willems',
  'Vermeulen',
  'Kramer',
  'Maas',
  'Verhoeven',
  'Koning',
  'Timmermans',
  'Groen',
  'Wolters',
  'Şahin',
  'Yılmaz',
  'El Amrani',
  'Bouzid',
  'Nguyen',
  'Kowalski',
  'Pinas',
  'Martina',
  'Öztürk',
  'Haddou',
];
const MET_VOORVOEGSEL: readonly (readonly [string, string])[] = [
  ['de', 'Vries'],
  ['van', 'Dijk'],
  ['de', 'Jong'],
  ['van den', 'Berg'],
  ['van der', 'Linden'],
  ['de', 'Boer'],
  ['van', 'Leeuwen'],
  ['de', 'Graaf'],
  ['van der', 'Meer'],
  ['van', 'Wijk'],
  ["'t", 'Hart'],
  ['ter', 'Horst'],
];
const JONGENS = [
  'Daan',
  'Sem',
  'Lucas',
  'Levi',
  'Finn',
  'Milan',
  'Noah',
  'Luuk',
  'Bram',
  'Mohammed',
  'Adam',
  'Thijs',
  'Jesse',
  'Ryan',
  'Mees',
  'Ayoub',
  'Sven',
  'Jayden',
  'Jan',
  'Pieter',
  'Henk',
  'Kees',
  'Willem',
  'Gerrit',
];
const MEISJES = [
  'Emma',
  'Julia',
  'Mila',
  'Tess',
  'Sophie',
  'Zoë',
  'Sara',
  'Nora',
  'Yara',
  'Eva',
  'Liv',
  'Lotte',
  'Noor',
  'Fenna',
  'Amira',
  'Saar',
  'Anna',
  'Maria',
  'Johanna',
  'Grietje',
  'Ans',
  'Riet',
  'Fatima',
  'Ilse',
];
const STRATEN = [
  'Kerkstraat',
  'Dorpsstraat',
  'Schoolstraat',
  'Molenweg',
  'Stationsweg',
  'Julianastraat',
  'Beatrixlaan',
  'Wilhelminastraat',
  'Eikenlaan',
  'Beukenlaan',
  'Lindelaan',
  'Parkweg',
  'Nieuwstraat',
  'Hoofdstraat',
  'Marktplein',
  'Veldweg',
  'Kastanjelaan',
  'Sportlaan',
  'Tulpstraat',
  'Rozenstraat',
  'Spoorstraat',
  'Prins Hendrikstraat',
  'Oranjestraat',
  'Burg. de Withstraat',
  'Akkerweg',
  'Zuiderkade',
];

export function initials(voornamen: string): string {
  return voornamen
    .split(/\s+/)
    .map((n) => n[0]?.toUpperCase() ?? '')
    .join('')
    .normalize('NFC');
}

function surname(random: Random): { achternaam: string; voorvoegsel?: string } {
  if (random.chance(0.3)) {
    const [voorvoegsel, achternaam] = random.pick(MET_VOORVOEGSEL);
    return { achternaam, voorvoegsel };
  }
  return { achternaam: random.pick(ACHTERNAMEN) };
}

function phone(random: Random): string {
  return random.chance(0.7)
    ? `06${random.int(10_000_000, 99_999_999)}`
    : `0${random.int(100_000_000, 999_999_999)}`;
}

const POSTCODE_LETTERS = 'ABCDEGHJKLMNPRTVWXZ';

/** The place a client lives in: its municipality (name and CBS code). */
export interface Woonplaats {
  readonly code: string;
  readonly name: string;
}

/**
 * An invented postcode in the municipality's own area: the first two digits follow from its CBS code, so the
 * clients of one municipality share them (real postcode areas are not in our sources).
 */
function postcode(random: Random, gemeente: string): string {
  const n = POSTCODE_LETTERS.length - 1;
  const area = 10 + ((Number(gemeente) * 37) % 90);
  return `${area}${String(random.int(0, 99)).padStart(2, '0')}${POSTCODE_LETTERS[random.int(0, n)]}${POSTCODE_LETTERS[random.int(0, n)]}`;
}

export function address(random: Random, woonplaats: Woonplaats): Address {
  return {
    huisnummer: random.int(1, 240),
    ...(random.chance(0.1) ? { huisletter: random.pick(['A', 'B', 'C']) } : {}),
    postcode: postcode(random, woonplaats.code),
    straat: random.pick(STRATEN),
    plaats: woonplaats.name,
  };
}

/**
 * An invented client. Youth (iJw) clients are 0–17, Wmo clients adults, mostly older.
 */
export function person(
  random: Random,
  bsn: string,
  youth: boolean,
  onDay: Day,
  woonplaats: Woonplaats,
): Person {
  const gender = random.chance(0.5) ? '1' : '2';
  const ageYears = youth
    ? random.int(0, 17)
    : Math.min(99, Math.max(18, Math.round(random.logNormal(68, 0.25))));
  const birth = onDay - Math.round(ageYears * 365.25) - random.int(0, 364);
  const first = random.pick(gender === '1' ? JONGENS : MEISJES);
  const voornamen = random.chance(0.35)
    ? `${first} ${random.pick(gender === '1' ? JONGENS : MEISJES)}`
    : first;
  const name = surname(random);
  let relatie: Relatie | undefined;
  if (youth || random.chance(0.3)) {
    const rGender = random.chance(0.6) ? '2' : '1';
    const rFirst = random.pick(rGender === '1' ? JONGENS : MEISJES);
    relatie = {
      nummer: String(random.int(100_000, 999_999)),
      // LDT_SoortRelatie: 10 ouder / 13 pleegouder for youth; 12 partner / 16 zoon of dochter for adults
      soort: youth ? (random.chance(0.9) ? '10' : '13') : random.pick(['12', '16']),
      gender: rGender,
      ...(youth ? name : surname(random)),
      voornamen: rFirst,
      voorletters: initials(rFirst),
      phone: phone(random),
    };
  }
  return {
    bsn,
    birth,
    gender,
    ...name,
    voornamen,
    voorletters: initials(voornamen),
    address: address(random, woonplaats),
    phone: phone(random),
    ...(random.chance(0.4)
      ? { email: `${first.toLowerCase().replace(/[^a-z]/g, 'x')}${random.int(1, 999)}@voorbeeld.nl` }
      : {}),
    ...(relatie ? { relatie } : {}),
  };
}
