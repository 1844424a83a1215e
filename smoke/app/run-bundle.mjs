// Runs a Node bundle of the page logic (argv[2]) and prints what it found as JSON.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

await import(pathToFileURL(resolve(process.argv[2])).href);
console.log(JSON.stringify(await globalThis.gruResult));
