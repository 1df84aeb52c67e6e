#!/usr/bin/env node
// Writes oclif.manifest.json from the compiled commands (run by `npm run build`, after tsc).
import {writeFileSync} from 'node:fs'
import {manifestPath, manifestText} from '../dist/tools/manifest.js'

const text = await manifestText()
writeFileSync(manifestPath, text)
console.log(`oclif.manifest.json: ${Object.keys(JSON.parse(text).commands).length} commands`)
