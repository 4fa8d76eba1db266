// The alerts of a night as the survey emits them: exposure by exposure (ZTF's `jd`, Rubin's
// `visit`), each alert with the upstream topic it goes to (ZTF: ztf_<night>_programid<N>; Rubin:
// lsst-alerts-v<major version of its schema>). From alert files, or from the project's generators.
import { parseAvroType, type AvroType } from '../avro/schema.ts';
import type { Survey } from '../alert/survey.ts';
import { FinkError } from '../errors.ts';
import { readAlertFile, SchemaCache } from '../sciencedb/decode.ts';
import { expandPaths } from '../sciencedb/ingest.ts';
import { createSimulation } from '../sciencedb/simulate.ts';
import type { SimulationOptions } from '../sciencedb/simulation.ts';
import type { NewAlert } from '../sciencedb/store.ts';

export interface Exposure {
  /** ZTF's jd (the exposure's start), Rubin's visit id. */
  id: number | bigint;
  alerts: { alert: NewAlert; topic: string }[];
}

interface Placement {
  exposure: number | bigint;
  topic: string;
}

const LSST_NAME = /^lsst\.v(\d+)_\d+\.alert$/;

/** Where an alert belongs: its exposure and its topic, read from the datum (decoded once, types cached). */
class Placer {
  readonly #types = new Map<string, { type: AvroType; lsstMajor: string | undefined }>();

  place(alert: NewAlert): Placement {
    let known = this.#types.get(alert.schemaJson);
    if (known === undefined) {
      const schema = JSON.parse(alert.schemaJson) as { name?: string; namespace?: string };
      const name = schema.name?.includes('.') === true || schema.namespace === undefined ? (schema.name ?? '') : `${schema.namespace}.${schema.name}`;
      known = { type: parseAvroType(JSON.parse(alert.schemaJson)), lsstMajor: LSST_NAME.exec(name)?.[1] };
      this.#types.set(alert.schemaJson, known);
    }
    const value = known.type.fromBuffer(Buffer.from(alert.datum)) as Record<string, Record<string, unknown> | null>;
    if (alert.survey === 'lsst') {
      if (known.lsstMajor === undefined) throw new FinkError(`alert ${alert.alertId}: its schema is not one of Rubin's (lsst.vX_Y.alert), so it has no lsst-alerts-vX topic`);
      const visit = value.diaSource?.visit;
      if (typeof visit !== 'bigint' && typeof visit !== 'number') throw new FinkError(`alert ${alert.alertId} has no diaSource.visit, so no exposure`);
      return { exposure: visit, topic: `lsst-alerts-v${known.lsstMajor}` };
    }
    const jd = value.candidate?.jd;
    const programid = value.candidate?.programid;
    if (typeof jd !== 'number') throw new FinkError(`alert ${alert.alertId} has no candidate.jd, so no exposure`);
    return { exposure: jd, topic: `ztf_${alert.night}_programid${typeof programid === 'number' ? programid : 1}` };
  }
}

const compare = (a: number | bigint, b: number | bigint): number => (a < b ? -1 : a > b ? 1 : 0);

function wrongSurvey(where: string, alert: NewAlert, survey: Survey): FinkError {
  return new FinkError(`${where}: alert ${alert.alertId} is a ${alert.survey} alert, not ${survey} (give --survey ${alert.survey})`, 2);
}

/**
 * The exposures of the alert files under `paths`, in exposure order. Every file is read once first
 * (keeping only where each alert belongs), so that a bad file stops the replay before anything is
 * sent; then each exposure's alerts are read again from their files.
 */
export function fileExposures(paths: readonly string[], survey: Survey, onIndexed?: (files: number, total: number) => void): { count: number; alerts: number; exposures: () => Generator<Exposure> } {
  const { files, missing } = expandPaths(paths);
  if (missing.length > 0) throw new FinkError(`no such file or folder: ${missing.join(', ')}`, 2);
  if (files.length === 0) throw new FinkError(`no .avro files in ${paths.join(', ')}`, 2);
  const placer = new Placer();
  const schemas = new SchemaCache();
  const index: { exposure: number | bigint; topic: string; file: number; position: number }[] = [];
  files.forEach((file, f) => {
    let position = 0;
    try {
      for (const alert of readAlertFile(file, schemas)) {
        if (alert.survey !== survey) throw wrongSurvey(file, alert, survey);
        index.push({ ...placer.place(alert), file: f, position: position++ });
      }
    } catch (err) {
      const message = (err as Error).message;
      throw new FinkError(message.startsWith(file) ? message : `${file}: ${message}`, err instanceof FinkError ? err.exitCode : 1);
    }
    onIndexed?.(f + 1, files.length);
  });
  // Stable: within an exposure, the alerts keep the order of their files.
  index.sort((a, b) => compare(a.exposure, b.exposure));
  function* exposures(): Generator<Exposure> {
    for (let i = 0; i < index.length; ) {
      let end = i;
      while (end < index.length && index[end]!.exposure === index[i]!.exposure) end++;
      const members = index.slice(i, end);
      const wanted = new Map<string, { topic: string }>(members.map((m) => [`${m.file}:${m.position}`, m]));
      const alerts: Exposure['alerts'] = [];
      for (const f of new Set(members.map((m) => m.file))) {
        let position = 0;
        for (const alert of readAlertFile(files[f]!, schemas)) {
          const member = wanted.get(`${f}:${position++}`);
          if (member !== undefined) alerts.push({ alert, topic: member.topic });
        }
      }
      yield { id: index[i]!.exposure, alerts };
      i = end;
    }
  }
  return { count: new Set(index.map((e) => e.exposure)).size, alerts: index.length, exposures };
}

/**
 * `count` alerts of the project's generator, in exposures. Rubin's generator gives its alerts
 * visits; ZTF's gives every alert its own time, so its alerts are grouped into exposures of
 * `ztfExposureSeconds` of that time.
 */
export function* simulatedExposures(count: number, options: SimulationOptions, ztfExposureSeconds: number): Generator<Exposure> {
  const simulation = createSimulation(options);
  const placer = new Placer();
  let current: Exposure | undefined;
  for (let i = 0; i < count; i++) {
    const alert = simulation.next();
    const { exposure, topic } = placer.place(alert);
    const id = alert.survey === 'ztf' ? Math.floor((Number(exposure) * 86_400) / ztfExposureSeconds) : exposure;
    if (current !== undefined && current.id !== id) {
      yield current;
      current = undefined;
    }
    current ??= { id, alerts: [] };
    current.alerts.push({ alert, topic });
  }
  if (current !== undefined) yield current;
}
