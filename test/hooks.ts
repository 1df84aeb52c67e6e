import {startSandbox, stopSandbox} from './support/sandbox.js'

// One sandbox (and one real PostgreSQL server) per test file (mocha runs files side by side with
// --parallel, each in a process of its own); each test seeds apps of its own.
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(180_000)
    await startSandbox()
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000)
    await stopSandbox()
  },
}
