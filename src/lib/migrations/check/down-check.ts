import type {Check} from '../../checks.js'
import type {DownSql} from '../down-source.js'
import {quoteIdent} from '../../postgres/identifiers.js'
import type {LocalMigration} from '../project.js'
import {extensionsOf} from '../extensions.js'
import {pgliteScratch} from './scratch.js'
import {type MigrationCheck, runStaircase, type StaircaseOptions} from './staircase.js'

// migrate:down's check of its own down SQL, before the confirmation: the staircase for exactly the
// migrations it is about to revert, on a throwaway PGlite built from the migrations applied to the app.

export interface DownCheckInput {
  local: LocalMigration[]
  applied: string[]
  revert: string[]
  downs: Map<string, DownSql>
  skip: boolean
  cacheDir?: string
  // Put sample rows in every table before each down, or before the downs it selects (generated downs: a step
  // that only works on empty tables).
  data?: StaircaseOptions['data']
  // What to add to a migration's verdict before it is judged (what a generated down lacks).
  amend?: (check: MigrationCheck) => Promise<MigrationCheck>
  // The schema the app's migrations run in (`?schema=`): generated downs name it, so the scratch database uses it too.
  schema?: string
}

const NAME = 'down-check'

export async function checkDowns(input: DownCheckInput): Promise<Check> {
  return (await checkDownsWithVerdicts(input)).check
}

// The check, and each reverted migration's verdict (empty when nothing ran).
export async function checkDownsWithVerdicts(input: DownCheckInput): Promise<{check: Check, verdicts: MigrationCheck[]}> {
  const revert = new Set(input.revert.filter(name => input.downs.get(name)?.kind !== 'missing'))
  if (revert.size === 0) return {check: {name: NAME, outcome: 'skipped', detail: 'No down SQL to check.'}, verdicts: []}
  if (input.skip) return {check: {name: NAME, outcome: 'warning', detail: 'Skipped because of --skip-down-check: nothing proved that the down SQL undoes its migration exactly. Check it with `heroku migrate:check`.'}, verdicts: []}
  const withRows = !input.data ? '' : typeof input.data === 'function' ? ', with sample rows in every table before each generated down' : ', with sample rows in every table before each down'
  // The scratch database gets the migrations the app has, with the down SQL migrate:down would run (a file or generated).
  const migrations = input.local.filter(m => input.applied.includes(m.name)).map(m => {
    const down = input.downs.get(m.name)
    return down && down.kind !== 'missing' ? {...m, downSql: down.sql} : m
  })
  let checks
  try {
    const db = await pgliteScratch(await extensionsOf(migrations), input.cacheDir)
    try {
      if (input.schema && input.schema !== 'public') {
        await db.query(`CREATE SCHEMA ${quoteIdent(input.schema)}`)
        await db.query(`SET search_path TO ${quoteIdent(input.schema)}`)
      }
      checks = await runStaircase(db, migrations, {check: m => revert.has(m.name), data: input.data})
    } finally {
      await db.close()
    }
  } catch (error) {
    return {check: {name: NAME, outcome: 'warning', detail: `Could not check the down SQL on a scratch database: ${(error as Error).message}. Check it with \`heroku migrate:check\`.`}, verdicts: []}
  }
  const amended = await Promise.all(checks.map(c => input.amend && revert.has(c.migration) ? input.amend(c) : c))
  return {check: verdictsCheck(amended, revert, withRows), verdicts: amended}
}

function verdictsCheck(checks: MigrationCheck[], revert: Set<string>, withRows: string): Check {
  // A migration that will not apply on the scratch database says nothing about a down SQL, unless it is one being reverted.
  const wrong = checks.filter(c => c.verdict === 'differs' || (c.verdict === 'broken' && revert.has(c.migration)))
  const unchecked = checks.filter(c => !wrong.includes(c) && c.verdict !== 'reverts' && c.verdict !== 'no-down')
  if (wrong.length > 0) {
    const detail = `On a scratch database built from the migrations folder${withRows}, the down SQL does not undo its migration exactly: ${wrong.map(c => `${c.migration}: ${[...c.problems, ...c.notes].join('; ')}`).join('. ')}`
    return {name: NAME, outcome: 'failed', detail: `${detail}. Fix down.sql (see \`heroku migrate:check\`), or pass --skip-down-check to go ahead without this check.`}
  }
  if (unchecked.length > 0) {
    return {name: NAME, outcome: 'warning', detail: `Not checked on the built-in scratch database: ${unchecked.map(c => `${c.migration} (${c.notes.join('; ')})`).join(', ')}. Check with \`heroku migrate:check --database-url\`.`}
  }
  return {name: NAME, outcome: 'passed', detail: `On a scratch database built from the migrations folder${withRows}, each down SQL leaves exactly the schema from before its migration, and the migration applies again after it (${[...revert].join(', ')}).`}
}
