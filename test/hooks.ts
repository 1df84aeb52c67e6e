import {startSandbox, stopSandbox} from './support/sandbox.js'

// One sandbox (and one real PostgreSQL server) per test file (mocha runs files side by side with
// --parallel, each in a process of its own); each test seeds apps of its own. Unit files (test/unit/)
// run without one: a unit test that needs PostgreSQL starts it itself (startSandbox).
const isUnitFile = (file?: string) => /[/\\]test[/\\]unit[/\\]/.test(file ?? '')

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(180_000)
    const files = (this.test?.parent?.suites ?? []).map(suite => suite.file)
    if (files.length > 0 && files.every(isUnitFile)) return
    await startSandbox()
  },
  async afterAll(this: Mocha.Context) {
    // Removing the data folder of a file that made a hundred databases (the fault matrices: about 700 MB)
    // took 30 s and more on a loaded machine.
    this.timeout(180_000)
    await stopSandbox()
  },
}
