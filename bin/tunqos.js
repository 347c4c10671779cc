#!/usr/bin/env node
// Entry point: registers tsx so the TypeScript sources run as they are (no build step to forget),
// then hands over to the commander program in src/cli.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
