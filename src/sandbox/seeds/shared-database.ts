import type {Heroku} from '../heroku/heroku.js'
import type {App} from '../heroku/state.js'
import {type LoadedApp, loadApp} from '../scenarios/load.js'
import type {AppSpec} from '../scenarios/spec.js'
import {type DataLoss, dataLossSpec} from './data-loss.js'

// One database, several apps: the data-loss app (web, worker, release phase) owns it; a worker app
// attaches it as DATABASE and through a pooler under a name of its own (WORKER_POOL); a reporting app
// attaches it as REPORTING_DB. `extra` adds more worker apps on it (as DATABASE), for the round counts.
// sandbox/scenarios/shared-database.json is this estate with the defaults.

export interface SharedDatabase extends DataLoss {
  worker: App
  reports: App
  extra: App[]
}

export function sharedDatabaseSpecs(name: string, options: {extra?: number} = {}): AppSpec[] {
  const release = {description: 'Initial release', by: 'katie@example.com', ago: '30d'}
  const workerApp = (app: string): AppSpec => ({
    name: app,
    formation: [{type: 'web', quantity: 0, command: 'npm start'}, {type: 'worker', quantity: 2, command: 'node jobs.js'}],
    databases: [{as: 'DATABASE', attaches: `${name}::DATABASE`}],
    releases: [release, {attach: 'DATABASE', by: 'katie@example.com', ago: '19d'}],
  })
  const worker = workerApp(`${name}-worker`)
  return [
    dataLossSpec(name),
    {...worker, databases: [...worker.databases!, {as: 'WORKER_POOL', attaches: `${name}::DATABASE`, pooler: true}]},
    {
      name: `${name}-reports`,
      formation: [{type: 'web', quantity: 1, command: 'npm start'}],
      databases: [{as: 'REPORTING_DB', attaches: `${name}::DATABASE`}],
      releases: [release, {attach: 'REPORTING_DB', by: 'katie@example.com', ago: '18d'}],
    },
    ...Array.from({length: options.extra ?? 0}, (_, i) => workerApp(`${name}-a${i + 1}`)),
  ]
}

export async function seedSharedDatabase(sandbox: Heroku, name: string, options: {extra?: number} = {}): Promise<SharedDatabase> {
  const loaded: LoadedApp[] = []
  for (const spec of sharedDatabaseSpecs(name, options)) loaded.push(await loadApp(sandbox, spec, {loaded}))
  const [{app, databases, names}, worker, reports, ...extra] = loaded
  return {
    app, database: databases.DATABASE, backup: names['backup-before-loss'], beforeLoss: names['before-loss'], rowsBefore: 60, rowsAfter: 20,
    worker: worker.app, reports: reports.app, extra: extra.map(e => e.app),
  }
}
