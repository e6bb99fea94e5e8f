#!/usr/bin/env node
// Runs the compiled CLI; `npm ci` builds it through the prepare script.
import { runMain } from '../dist/main.js';

runMain(process.argv.slice(2));
