#!/usr/bin/env node
import { launch } from './launch.ts';

await launch('fink', () => import('./cli/fink.ts'));
