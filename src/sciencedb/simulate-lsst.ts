// `fink simulate --survey lsst`: realistic synthetic Rubin alerts (schema lsst.v10_0) with Fink's
// added values, deterministic for a seed and a night. The `lsst` profile has the full shape (a
// history of up to a few hundred sources and forced sources, three plain FITS cutouts: about 150 to
// 200 KB); `lsst-light` the same schema without cutouts or history.
import { DIA_FORCED_SOURCE_SPEC, DIA_OBJECT_SPEC, DIA_SOURCE_SPEC, FINK_LSST_ADDED, finkLsstAddedSchema, LSST_BANDS, lsstAlertSchema, MPC_ORBITS_SPEC, SS_SOURCE_SPEC } from './lsst-schema.ts';
import { mjdOfNight, type FieldSpec, type Simulation, type SimulationOptions } from './simulation.ts';
import { f32, filler, fitsCutout, packer, Random } from './synthetic.ts';

/** Rubin's cutouts are plain FITS; 110x110 float32 pixels make about 51 KB each. */
const CUTOUT_SIZE = 110;
const POOL = 32;
// Rubin's photometric zero point in nJy: m = 31.4 - 2.5 log10(flux).
const ZERO_POINT = 31.4;
const SIMBAD = ['Unknown', 'Unknown', 'Unknown', 'Unknown', 'Star', 'Star', 'RRLyr', 'EB*', 'QSO', 'Galaxy', 'Galaxy', 'AGN', 'SN', 'CataclyV*'];
const CATS_CLASSES = [11, 12, 13, 21, 22, 23, 24, 31, 32, 41, 42];

const fluxOfMag = (mag: number): number => 10 ** ((ZERO_POINT - mag) / 2.5);

/** A record of `specs`: every field drawn (nullable ones null now and then), then `values` over them. */
function recordOf(random: Random, specs: readonly FieldSpec[], values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of specs) out[spec.name] = spec.mark === '?' && random.next() < 0.05 ? null : filler(random, spec);
  return Object.assign(out, values);
}

interface LsstObject {
  diaObjectId: bigint | null;
  ssObjectId: bigint | null;
  designation: string | null;
  ra: number;
  dec: number;
  /** Mean magnitude. */
  mag: number;
  first: number;
  /** Sources of the object before this run's next alert of it. */
  sources: number;
}

export function createLsstSimulation(options: SimulationOptions): Simulation {
  const random = new Random(options.seed);
  const light = options.profile === 'lsst-light';
  const { pack, ...schemas } = packer(lsstAlertSchema(), finkLsstAddedSchema());
  const stamps = light ? null : ['difference', 'science', 'template'].map((kind) => Array.from({ length: POOL }, () => fitsCutout(random, kind, CUTOUT_SIZE)));
  // Observing starts at 23:00 UTC of the night's date (20:00 in Chile) and runs through the night
  // at a pace that keeps millions of alerts before noon UTC, where Rubin's dayObs changes.
  const start = mjdOfNight(options.night) + 23 / 24;
  const nightMjd = BigInt(Math.floor(start));
  // Ids: the night, the seed and a counter, above 2^53, distinct across nights and seeds.
  const idBase = nightMjd * 10_000_000_000_000n + BigInt(options.seed % 1000) * 10_000_000_000n;
  const objects: LsstObject[] = [];
  let index = 0;
  let objectCount = 0;

  const newObject = (): LsstObject => {
    const n = BigInt(objectCount++);
    const sso = random.next() < 0.03;
    // Rubin sees the southern sky, up to about +30 degrees.
    const dec = (Math.asin(random.between(-1, 0.5)) * 180) / Math.PI;
    return {
      diaObjectId: sso ? null : idBase + 5_000_000_000n + n,
      ssObjectId: sso ? 20_000_000_000n + BigInt(random.int(1, 999_999)) : null,
      designation: sso ? `20${random.int(10, 25)} ${String.fromCharCode(65 + random.int(0, 24))}${String.fromCharCode(65 + random.int(0, 24))}${random.int(1, 99)}` : null,
      ra: random.between(0, 360), dec, mag: random.between(17, 24.5), first: start - random.between(0, 300),
      // Most objects have a short history; some have been seen for years.
      sources: random.next() < 0.6 ? 0 : random.next() < 0.2 ? random.int(100, 300) : random.int(1, 40),
    };
  };

  const sourceOf = (object: LsstObject, id: bigint, mjd: number, band: string, mag: number): Record<string, unknown> => {
    const flux = (random.next() < 0.15 ? -1 : 1) * fluxOfMag(mag);
    const err = Math.hypot(fluxOfMag(24.5) / 5, Math.abs(flux) * 0.02) * random.between(0.8, 1.2);
    return recordOf(random, DIA_SOURCE_SPEC, {
      diaSourceId: id, visit: BigInt(Math.round(mjd * 1e4)), detector: random.int(0, 188),
      diaObjectId: object.diaObjectId, ssObjectId: object.ssObjectId, parentDiaSourceId: null,
      midpointMjdTai: mjd, ra: object.ra + random.gauss() * 3e-5, dec: object.dec + random.gauss() * 3e-5,
      raErr: f32(random.between(1e-6, 3e-5)), decErr: f32(random.between(1e-6, 3e-5)), band,
      psfFlux: f32(flux), psfFluxErr: f32(err), snr: f32(Math.abs(flux) / err), isNegative: flux < 0,
      scienceFlux: f32(fluxOfMag(object.mag) + flux), scienceFluxErr: f32(err * 1.1),
      reliability: f32(random.next() < 0.7 ? random.between(0.6, 1) : random.between(0, 0.6)),
      isDipole: random.next() < 0.03, extendedness: f32(random.next()), timeProcessedMjdTai: mjd + 0.0008,
      timeWithdrawnMjdTai: null, trailRa: null, trailDec: null,
    });
  };

  return {
    ...schemas,
    next() {
      const i = index++;
      let object = objects.length > 0 && random.next() < 0.5 ? random.pick(objects) : undefined;
      if (object === undefined) {
        object = newObject();
        objects.push(object);
        if (objects.length > 5000) objects.shift();
      }
      const mjd = start + i * 1e-7 + 37 / 86_400;
      const id = idBase + BigInt(i);
      const band = random.pick(LSST_BANDS);
      const mag = object.mag + random.gauss() * 0.3;
      const diaSource = sourceOf(object, id, mjd, band, mag);
      const first = object.sources === 0;
      const previous = light ? 0 : object.sources;
      const prv = light ? null : Array.from({ length: previous }, (_, k) =>
        sourceOf(object, id - BigInt((previous - k) * 1000 + 1), mjd - (previous - k) * random.between(0.5, 3), random.pick(LSST_BANDS), object.mag + random.gauss() * 0.3));
      const forced = light || object.diaObjectId === null ? null : Array.from({ length: Math.min(previous + random.int(0, 10), 400) }, (_, k) =>
        recordOf(random, DIA_FORCED_SOURCE_SPEC, {
          diaForcedSourceId: id * 10n + BigInt(k), diaObjectId: object.diaObjectId, ra: object.ra, dec: object.dec,
          midpointMjdTai: mjd - (k + 1) * random.between(0.5, 3), band: random.pick(LSST_BANDS),
          psfFlux: f32(random.gauss() * fluxOfMag(object.mag)), psfFluxErr: f32(fluxOfMag(24.5) / 5), timeWithdrawnMjdTai: null,
        }));
      const diaObject = object.diaObjectId === null ? null : recordOf(random, DIA_OBJECT_SPEC, {
        diaObjectId: object.diaObjectId, validityStartMjdTai: object.first, ra: object.ra, dec: object.dec,
        firstDiaSourceMjdTai: object.first, lastDiaSourceMjdTai: mjd, nDiaSources: object.sources + 1,
      });
      object.sources++;
      const ssSource = object.ssObjectId === null ? null : recordOf(random, SS_SOURCE_SPEC, {
        diaSourceId: id, ssObjectId: object.ssObjectId, designation: object.designation,
        eclLambda: random.between(0, 360), eclBeta: random.between(-20, 20), galLon: random.between(0, 360), galLat: random.between(-90, 90),
      });
      const mpcOrbits = object.designation === null ? null : recordOf(random, MPC_ORBITS_SPEC, {
        designation: object.designation, packed_primary_provisional_designation: object.designation.replace(' ', ''),
        unpacked_primary_provisional_designation: object.designation, mpc_orb_jsonb: null,
      });
      const cutout = (kind: number) => (stamps === null ? null : random.pick(stamps[kind]!));
      const alert = {
        diaSourceId: id, observation_reason: random.pick(['wfd', 'wfd', 'wfd', 'ddf', 'template']), target_name: null,
        diaSource, prvDiaSources: prv, prvDiaForcedSources: forced, diaObject, ssSource, mpc_orbits: mpcOrbits,
        cutoutDifference: cutout(0), cutoutScience: cutout(1), cutoutTemplate: cutout(2),
      };
      return pack('lsst', alert, addedValues(random, object, mjd, first), options.night);
    },
  };
}

/** Fink's values on its Rubin stream: mostly unremarkable, with the small tails science cases look for. */
function addedValues(random: Random, object: LsstObject, mjd: number, first: boolean): Record<string, unknown> {
  const blank = (specs: readonly FieldSpec[]) => Object.fromEntries(specs.map((s) => [s.name, null]));
  const sso = object.ssObjectId !== null;
  const snLike = !sso && random.next() < 0.05;
  const simbad = sso ? null : random.pick(SIMBAD);
  const hosted = !sso && random.next() < 0.3;
  return {
    clf: {
      ...blank(FINK_LSST_ADDED.clf),
      snnSnVsOthers_score: f32(snLike ? random.between(0.5, 1) : random.between(0, 0.5)),
      cats_class: random.pick(CATS_CLASSES), cats_score: f32(random.between(0.2, 1)),
      earlySNIa_score: snLike && random.next() < 0.5 ? random.between(0.5, 1) : random.between(0, 0.4),
    },
    xm: {
      ...blank(FINK_LSST_ADDED.xm),
      simbad_otype: simbad, legacydr8_zphot: hosted ? f32(random.between(0.01, 1.2)) : null,
      tns_type: snLike && random.next() < 0.1 ? random.pick(['SN Ia', 'SN II', 'SN Ibc']) : null,
    },
    pred: {
      ...blank(FINK_LSST_ADDED.pred),
      is_sso: sso, is_first: first, is_cataloged: simbad !== null && simbad !== 'Unknown',
      main_label_classifier: null, main_label_crossmatch: simbad,
    },
    misc: { firstDiaSourceMjdTaiFink: first ? mjd : object.first },
  };
}
