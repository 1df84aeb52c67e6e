import {APIClient} from '@heroku-cli/command'
import nock from 'nock'
import {Config} from '@oclif/core'
import {root} from '../support/heroku.js'

// A real API client of the CLI, for unit tests whose HTTP is answered by nock.
export async function apiClient(): Promise<APIClient> {
  process.env.HEROKU_API_KEY = 'unit-test-api-key'
  delete process.env.HEROKU_HOST
  delete process.env.HEROKU_DATA_HOST
  const config = await Config.load({root})
  return new APIClient(config)
}

export const API = 'https://api.heroku.com'
export const DATA_API = 'https://api.data.heroku.com'

// nock intercepts every socket of the process while active, the sandbox's PostgreSQL and HTTP
// connections included; so it is active only inside the unit suites that ask for it.
nock.restore()

export function useNock() {
  before(() => nock.activate())
  afterEach(() => nock.cleanAll())
  after(() => nock.restore())
}
