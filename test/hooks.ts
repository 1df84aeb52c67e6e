import {startSandbox, stopSandbox} from './support/sandbox.js'

const tally = {passed: 0, failed: 0, skipped: 0}

// One sandbox (and one real PostgreSQL server) for the whole run; each test seeds apps of its own.
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(180_000)
    await startSandbox()
  },
  afterEach(this: Mocha.Context) {
    const state = this.currentTest?.state
    if (state === 'passed') tally.passed++
    else if (state === 'failed') tally.failed++
    else tally.skipped++
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000)
    await stopSandbox()
  },
}

// A closing line in the plain form CI reads, after mocha's own summary.
process.on('exit', () => {
  process.stdout.write(`${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped\n`)
})
