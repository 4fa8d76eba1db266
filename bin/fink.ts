#!/usr/bin/env -S node --max-semi-space-size=8
import { launch } from './launch.ts';

await launch('fink', () => import('./cli/fink.ts'));
