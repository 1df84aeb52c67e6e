import {APIClient} from '@heroku-cli/command'
import nock from 'nock'
import {Config} from '@oclif/core'
import {Api, ApiSettings} from '../../src/lib/api/client.js'
import {root} from '../support/heroku.js'

// The plugin's API layer over a real API client of the CLI, for unit tests whose HTTP is answered by nock.
// Back-off is shortened so that retries take milliseconds.
export async function apiClient(settings: ApiSettings = {}): Promise<Api> {
  process.env.HEROKU_API_KEY = 'unit-test-api-key'
  delete process.env.HEROKU_HOST
  delete process.env.HEROKU_DATA_HOST
  const config = await Config.load({root})
  return new Api(new APIClient(config), {backoffMs: 5, maxBackoffMs: 20, ...settings})
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
