import assert from 'node:assert/strict'
import type {Release} from '../../src/lib/api/releases.js'
import {diffConfig, planRollback} from '../../src/lib/rollback/plan.js'
import {previousEligible, ineligibility} from '../../src/lib/rollback/target.js'

const NOW = Date.parse('2026-11-24T12:00:00Z')
let n = 0
const release = (fields: Partial<Release> = {}): Release => ({
  id: `id-${++n}`, version: n, status: 'succeeded', description: `Deploy ${n}`, created_at: new Date(NOW - 3600_000).toISOString(),
  current: false, eligible_for_rollback: true, user: {email: 'dev@example.com'}, slug: {id: `slug-${n}`}, addon_plan_names: [], ...fields,
})

const inputs = (fields: Partial<Parameters<typeof planRollback>[0]> = {}) => {
  const target = release({version: 50, description: 'Deploy 7c35f77'})
  const current = release({version: 52, current: true})
  return {app: 'shop', target, current, undone: [current, release({version: 51})], currentConfig: {A: '1'}, targetConfig: {A: '1'},
    currentCommit: 'b'.repeat(40), targetCommit: 'a'.repeat(40), now: NOW, ...fields}
}

describe('planRollback', () => {
  it('names the config vars a rollback restores, removes and changes, never their values', () => {
    const config = diffConfig({KEEP: 'same', NEW: 'secret-1', CHANGED: 'secret-2'}, {KEEP: 'same', OLD: 'secret-3', CHANGED: 'secret-4'})
    assert.deepEqual(config, {restored: ['OLD'], removed: ['NEW'], changed: ['CHANGED']})
    const plan = planRollback(inputs({currentConfig: {NEW: 'secret-1'}, targetConfig: {}}))
    assert.ok(!JSON.stringify(plan).includes('secret-1'))
  })

  it('warns loudly when DATABASE_URL would be lost or repointed', () => {
    const lost = planRollback(inputs({currentConfig: {DATABASE_URL: 'postgres://x'}, targetConfig: {}}))
    assert.match(lost.warnings[0].message, /the app would lose DATABASE_URL/)
    assert.equal(lost.warnings[0].loud, true)
    const repointed = planRollback(inputs({currentConfig: {DATABASE_URL: 'postgres://new'}, targetConfig: {DATABASE_URL: 'postgres://old'}}))
    assert.match(repointed.warnings[0].message, /DATABASE_URL would point at a different database/)
  })

  it('flags a promote among the releases undone even when config vars match', () => {
    const plan = planRollback(inputs({undone: [release({version: 51, description: 'Attach DATABASE (@ref:postgresql-x)'})]}))
    assert.match(plan.warnings.find(w => w.kind === 'database')!.message, /crosses database attachment changes \(v51 Attach DATABASE/)
  })

  it('says the release command runs again, and which migrations stay applied', () => {
    const plan = planRollback(inputs({releaseCommand: 'npx prisma migrate deploy', migrations: {names: ['2026_a', '2026_b']}}))
    assert.ok(plan.warnings.some(w => w.kind === 'release-command' && /runs again for v50/.test(w.message)))
    assert.match(plan.warnings.find(w => w.kind === 'migrations')!.message, /2 Prisma migrations deployed since v50 stay applied: 2026_a, 2026_b/)
  })

  it('lists add-ons added since the target', () => {
    const plan = planRollback(inputs({current: release({version: 52, current: true, addon_plan_names: ['heroku-redis:mini']})}))
    assert.match(plan.warnings.find(w => w.kind === 'addons')!.message, /added since v50: heroku-redis:mini/)
  })

  it('gives the command that undoes the rollback', () => {
    assert.equal(planRollback(inputs()).undo, 'heroku safe-rollback v52 --app shop')
  })
})

describe('choosing a target', () => {
  it('picks the second eligible release among the newest ten, as releases:rollback does', () => {
    const newestFirst = [release({version: 5, current: true}), release({version: 4, eligible_for_rollback: false}), release({version: 3})]
    assert.equal(previousEligible(newestFirst, 'shop').version, 3)
  })

  it('explains why a release cannot be chosen', () => {
    const current = release({current: true})
    assert.match(ineligibility(current, current)!, /is the current release/)
    assert.match(ineligibility(release({status: 'failed'}), current)!, /failed/)
    assert.match(ineligibility(release({status: 'pending'}), current)!, /is pending/)
    assert.match(ineligibility(release({eligible_for_rollback: false}), current)!, /not eligible/)
    assert.equal(ineligibility(release(), current), undefined)
  })
})
