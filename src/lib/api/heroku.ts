import type {APIClient} from '@heroku-cli/command'

// The one layer that talks to Heroku: every request the plugin makes goes through the CLI's own
// authenticated client (`this.heroku`), with the Data API on the data host the CLI uses.
export type Heroku = APIClient

export const SDK_HEADERS = {Accept: 'application/vnd.heroku+json; version=3.sdk'}

export async function dataApi(): Promise<{hostname: string}> {
  const {utils} = await import('@heroku/heroku-cli-util')
  return {hostname: utils.pg.host()}
}
