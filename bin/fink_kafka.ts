#!/usr/bin/env node
import { launch } from './launch.ts';

await launch('fink_kafka', () => import('./cli/fink_kafka.ts'));
