import assert from 'node:assert/strict'
import type {Result} from '../../src/tools/heroku-cli.js'
import type {Addon, App} from '../../src/sandbox/index.js'
import {sandbox} from './sandbox.js'

// Every secret the sandbox knows about an app: config var values (of every release), database
// passwords, and the API key.
export function secretsOf(app: App, databases: (Addon | undefined)[] = []): string[] {
  const values = app.releases.flatMap(r => Object.values(r._config)).concat(Object.values(app.config))
  const passwords = databases.flatMap(db => (db?._database ? [db._database.password] : []))
  return [...new Set([...values, ...passwords, sandbox().apiKey])].filter(value => value.length >= 8 && value !== 'production')
}

export function assertNoSecrets(result: Result, secrets: string[]) {
  const output = result.stdout + result.stderr
  for (const secret of secrets) assert.ok(!output.includes(secret), `output shows a secret (${secret.slice(0, 4)}…)`)
}
