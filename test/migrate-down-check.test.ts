import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {seedPrismaApp} from '../src/sandbox/seeds/prisma-app.js'
import {heroku} from './support/heroku.js'
import {prismaProject, removePrismaProjects} from './support/prisma.js'
import {appName, sandbox} from './support/sandbox.js'

const STATUS = '20260401000000_add_post_status'
const WIDEN = '20260501000000_widen_user_name'

async function seed() {
  const name = appName('mdcheck')
  const dir = prismaProject()
  const {database} = await seedPrismaApp(sandbox(), name, dir, {releaseCommand: null})
  const applied = async () => (await sandbox().sql<{migration_name: string}>(database, 'SELECT migration_name FROM "_prisma_migrations" ORDER BY 1')).map(r => r.migration_name)
  return {name, dir, applied}
}

describe('heroku migrate:down proves its down SQL on a scratch database first', () => {
  after(removePrismaProjects)

  it('shows the down check among the others in --dry-run --json, passed for downs that revert exactly', async function () {
    this.timeout(180_000)
    const {name, dir} = await seed()
    const result = await heroku(['migrate:down', '--app', name, '--steps', '2', '--dry-run', '--json'], {cwd: dir})
    assert.equal(result.code, 0, result.stderr)
    const check = JSON.parse(result.stdout).plan.checks.find((c: {name: string}) => c.name === 'down-check')
    assert.equal(check.outcome, 'passed', check.detail)
    assert.match(check.detail, new RegExp(`${WIDEN}, ${STATUS}`))
  })

  it('blocks a down that leaves an enum behind, before the confirmation, and goes on with --skip-down-check', async function () {
    this.timeout(180_000)
    const {name, dir, applied} = await seed()
    writeFileSync(join(dir, 'prisma', 'migrations', STATUS, 'down.sql'), 'DROP INDEX "Post_status_idx";\nALTER TABLE "Post" DROP COLUMN "status";\n')
    const before = await applied()
    const blocked = await heroku(['migrate:down', '--app', name, '--steps', '2', '--confirm', name], {cwd: dir})
    assert.equal(blocked.code, 1, blocked.stderr)
    assert.match(blocked.stdout, /✗ down-check +.*20260401000000_add_post_status: enum "Status" still there after down/)
    assert.match(blocked.stderr, /^Error: Refused by the down-check check: see the checks above\.$/m)
    assert.deepEqual(await applied(), before, 'nothing was reverted')

    const skipped = await heroku(['migrate:down', '--app', name, '--steps', '2', '--confirm', name, '--skip-down-check'], {cwd: dir})
    assert.equal(skipped.code, 0, skipped.stderr)
    assert.match(skipped.stdout, /! down-check +Skipped because of --skip-down-check/)
    assert.deepEqual(await applied(), before.slice(0, 3))
  })
})
