#!/usr/bin/env node
/** `sprite`: the command-line client (the bundle's entry point; the commands are in cli.ts). */
import { runCli } from './cli.js';

void runCli(process.argv.slice(2)).then((code) => process.exit(code));
