// Realistic synthetic ZTF alerts, deterministic for a seed and a night. The `ztf` profile has the
// full shape (history, three gzipped FITS cutouts, about 60 KB); `ztf-light` the same schema with no
// cutouts and no history (1 to 2 KB). Fink-style added values are drawn so that the science filters
// select small, realistic fractions.
import { gzipSync } from 'node:zlib';
import { ROID_KNOWN_SSO } from '../alert/filter.ts';
import type { NewAlert } from './store.ts';
import { jdOfNight, type Simulation, type SimulationOptions } from './simulation.ts';
import { f32, filler, fitsCutout, packer, Random } from './synthetic.ts';
import { ADDED_SPEC, CANDIDATE_SPEC, finkAddedSchema, PRV_CANDIDATE_SPEC, ztfAlertSchema } from './ztf-schema.ts';

// Distinct stamps are drawn once per run and shared: gzip of every stamp would dominate the
// simulation, and a pool of 64 per kind keeps any two neighbouring messages from sharing bytes.
const POOL = 64;

const CDS_CLASSES = ['Unknown', 'Unknown', 'Unknown', 'Unknown', 'Unknown', 'Unknown', 'Star', 'Star', 'RRLyr', 'EB*', 'QSO', 'Galaxy', 'YSO', 'Mira', 'SN', 'Candidate_SN*', 'AGN', 'CataclyV*'];

function objectName(random: Random, year: string): string {
  let s = `ZTF${year}`;
  for (let i = 0; i < 7; i++) s += String.fromCharCode(97 + random.int(0, 25));
  return s;
}

export function createZtfSimulation(options: SimulationOptions): Simulation {
  const random = new Random(options.seed);
  const light = options.profile === 'ztf-light';
  const { pack, ...schemas } = packer(ztfAlertSchema(), finkAddedSchema());
  const stamps = light ? null : ['science', 'template', 'difference'].map((kind) => Array.from({ length: POOL }, () => gzipSync(fitsCutout(random, kind, 63))));
  const nightJd = jdOfNight(options.night);
  const year = options.night.slice(2, 4);
  // Objects come back within a night: about three alerts per object.
  const objects: { id: string; ra: number; dec: number; first: number; sso: boolean }[] = [];
  let index = 0;
  // Real candids encode the time of the exposure; here seconds since MJD 0 times 1e9, then the
  // seed, then a counter: above 2^53 (so only a bigint holds them), increasing within a run, and
  // distinct across nights and seeds (up to 10^8 alerts per run).
  const candidBase = BigInt(Math.round((nightJd - 2400000.5) * 86400)) * 1_000_000_000n + BigInt(options.seed % 10_000) * 100_000_000n;

  const candidateSpecs = CANDIDATE_SPEC;
  const prvSpecs = PRV_CANDIDATE_SPEC;

  return {
    ...schemas,
    next(): NewAlert {
      const i = index++;
      let object = objects.length > 0 && random.next() < 0.6 ? random.pick(objects) : undefined;
      if (object === undefined) {
        const dec = (Math.asin(random.between(-0.5, 1)) * 180) / Math.PI; // ZTF sees north of -30
        object = { id: objectName(random, year), ra: random.between(0, 360), dec, first: nightJd - random.between(0, 400), sso: random.next() < 0.05 };
        objects.push(object);
        if (objects.length > 5000) objects.shift();
      }
      // Strictly increasing with the alert number from 3 UTC, at a pace of about 300,000 alerts
      // in an eight-hour night.
      const jd = nightJd + 0.125 + i * 1e-6;
      const candid = candidBase + BigInt(i);
      const fid = random.pick([1, 1, 2, 2, 3]);
      const magpsf = f32(random.between(14, 21));
      const pid = BigInt(Math.round((jd - 2458000) * 1e4)) * 100000n + BigInt(random.int(0, 99999));
      const ndethist = light ? random.int(1, 30) : random.int(1, 60);
      const candidate: Record<string, unknown> = {};
      for (const spec of candidateSpecs) candidate[spec.name] = spec.mark === '?' && random.next() < 0.05 ? null : filler(random, spec);
      Object.assign(candidate, {
        jd, fid, pid, candid, programid: 1, programpi: 'Kulkarni', isdiffpos: random.next() < 0.8 ? 't' : 'f',
        ra: object.ra + random.gauss() * 1e-5, dec: object.dec + random.gauss() * 1e-5,
        ranr: object.ra, decnr: object.dec,
        magpsf, sigmapsf: f32(random.between(0.02, 0.2) * (1 + (magpsf - 14) / 7)), diffmaglim: f32(random.between(19.5, 21)),
        rb: f32(random.between(0.3, 1)), drb: f32(random.between(0.3, 1)), classtar: f32(random.next()),
        sgscore1: f32(random.next()), distpsnr1: f32(random.between(0, 30)),
        ssdistnr: object.sso ? f32(random.between(0, 5)) : f32(-999), ssmagnr: object.sso ? f32(random.between(17, 21)) : f32(-999),
        ssnamenr: object.sso ? `${random.int(1000, 600000)}` : null,
        ndethist, ncovhist: ndethist + random.int(0, 200), jdstarthist: object.first, jdendhist: jd,
        nmtchps: random.int(0, 10), rfid: BigInt(random.int(100000000, 999999999)), jdstartref: 2458000 + random.between(0, 300),
        jdendref: 2458300 + random.between(0, 300), nframesref: random.int(15, 40), nmatches: random.int(100, 2000),
        rbversion: 't17_f5_c3', drbversion: 'd6_m7', pdiffimfilename: `ztf_${options.night}_diff.fits`,
      });
      let prv: Record<string, unknown>[] | null = null;
      if (!light) {
        prv = [];
        const count = random.int(0, 30);
        for (let k = 0; k < count; k++) {
          const p: Record<string, unknown> = {};
          for (const spec of prvSpecs) p[spec.name] = spec.mark !== '' && random.next() < 0.05 ? null : filler(random, spec);
          const detected = random.next() < 0.7;
          Object.assign(p, {
            jd: jd - (count - k) * random.between(0.5, 3), fid: random.pick([1, 2]), programid: 1, rbversion: 't17_f5_c3',
            candid: detected ? candid - BigInt((count - k) * 1_000_000) : null, isdiffpos: detected ? 't' : null,
            ra: detected ? object.ra : null, dec: detected ? object.dec : null, ranr: detected ? object.ra : null, decnr: detected ? object.dec : null,
            magpsf: detected ? f32(magpsf + random.gauss() * 0.3) : null, sigmapsf: detected ? f32(random.between(0.02, 0.2)) : null,
          });
          prv.push(p);
        }
      }
      const cutout = (kind: number, name: string) =>
        stamps === null ? null : { fileName: `candid${candid}_pid${pid}_targ_${name}.fits.gz`, stampData: random.pick(stamps[kind]!) };
      const alert = {
        schemavsn: '4.02', publisher: 'ZTF (www.ztf.caltech.edu)', objectId: object.id, candid, candidate,
        prv_candidates: prv, fp_hists: null,
        cutoutScience: cutout(0, 'sci'), cutoutTemplate: cutout(1, 'ref'), cutoutDifference: cutout(2, 'diff'),
      };
      return pack('ztf', alert, addedValues(random, object.sso, ndethist), options.night);
    },
  };
}

/** Fink-style classifier outputs: mostly unremarkable, with the small tails science cases look for. */
function addedValues(random: Random, sso: boolean, ndethist: number): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const spec of ADDED_SPEC) values[spec.name] = null;
  const snLike = random.next() < 0.04;
  Object.assign(values, {
    cdsxmatch: random.pick(CDS_CLASSES),
    roid: sso ? ROID_KNOWN_SSO : random.next() < 0.02 ? 1 : 0,
    mulens: random.next() < 0.01 ? random.between(0.5, 1) : random.between(0, 0.2),
    rf_snia_vs_nonia: snLike ? random.between(0.5, 1) : random.between(0, 0.3),
    snn_snia_vs_nonia: snLike ? random.between(0.4, 1) : random.between(0, 0.5),
    snn_sn_vs_all: snLike ? random.between(0.5, 1) : random.between(0, 0.6),
    rf_kn_vs_nonkn: random.between(0, 0.1),
    nalerthist: ndethist,
  });
  return values;
}
