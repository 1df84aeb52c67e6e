import {Refused} from '../errors.js'
import {Api, path, statusOf} from './client.js'
import type {AppInfo, Dyno, Process} from './types.js'

export type {AppInfo, Dyno, Process} from './types.js'

export const noSuchApp = (app: string) => new Refused(`App ${app} does not exist or you do not have access to it.`)

// A 404 on an app's own path means the app is not there (or not yours): say so in one line.
export async function orNoSuchApp<T>(app: string, read: Promise<T>): Promise<T> {
  try {
    return await read
  } catch (error) {
    if (statusOf(error) === 404) throw noSuchApp(app)
    throw error
  }
}

export const getApp = (api: Api, app: string) => orNoSuchApp(app, api.get<AppInfo>(path`/apps/${app}`))

export async function setMaintenance(api: Api, app: string, on: boolean): Promise<void> {
  await api.patch(path`/apps/${app}`, {body: {maintenance: on}})
}

export const listDynos = (api: Api, app: string) => api.get<Dyno[]>(path`/apps/${app}/dynos`)

export const listFormation = (api: Api, app: string) => api.get<Process[]>(path`/apps/${app}/formation`)

export async function scaleFormation(api: Api, app: string, updates: {type: string, quantity: number}[]): Promise<void> {
  await api.patch(path`/apps/${app}/formation`, {body: {updates}})
}
