#!/usr/bin/env -S node --max-semi-space-size=8 --max-old-space-size=192
import { launch } from './launch.ts';

await launch('fink', () => import('./cli/fink.ts'));
