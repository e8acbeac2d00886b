#!/usr/bin/env node
// The `facteur` command: runs the TypeScript CLI through tsx so a checkout needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/index.ts');
