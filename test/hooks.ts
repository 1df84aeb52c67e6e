import {startSandbox, stopSandbox} from './support/sandbox.js'

let tally = ''

function count(suite: Mocha.Suite, totals = {passed: 0, failed: 0, skipped: 0}) {
  for (const test of suite.tests) {
    if (test.isPending()) totals.skipped++
    else if (test.state === 'passed') totals.passed++
    else if (test.state === 'failed') totals.failed++
  }
  for (const child of suite.suites) count(child, totals)
  return totals
}

// One sandbox (and one real PostgreSQL server) for the whole run; each test seeds apps of its own.
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(180_000)
    await startSandbox()
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000)
    const {passed, failed, skipped} = count(this.test!.parent!)
    tally = `${passed} passed, ${failed} failed, ${skipped} skipped`
    await stopSandbox()
  },
}

// A closing line in the plain form CI reads, after mocha's own summary.
process.on('exit', () => {
  if (tally) process.stdout.write(`${tally}\n`)
})
