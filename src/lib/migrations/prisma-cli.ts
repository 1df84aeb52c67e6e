import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

export interface PrismaCli {
  bin: string
  version: string
  major: number
}

// The project's own `prisma` CLI, found the way npx finds it: node_modules/.bin from the project up.
export function findPrismaCli(projectDir: string): PrismaCli | undefined {
  for (let dir = projectDir; ; dir = dirname(dir)) {
    const bin = join(dir, 'node_modules', '.bin', 'prisma')
    const manifest = join(dir, 'node_modules', 'prisma', 'package.json')
    if (existsSync(bin) && existsSync(manifest)) {
      const version = (JSON.parse(readFileSync(manifest, 'utf8')) as {version: string}).version
      return {bin, version, major: Number(version.split('.')[0])}
    }
    if (dirname(dir) === dir) return undefined
  }
}

// Whether the project's Prisma CLI has the native schema engine it runs (downloaded at install time, which
// fails without internet): PRISMA_SCHEMA_ENGINE_BINARY, or a schema-engine-<platform> in @prisma/engines.
export function hasSchemaEngineBinary(prisma: PrismaCli, env = process.env): boolean {
  if (env.PRISMA_SCHEMA_ENGINE_BINARY) return existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)
  const nodeModules = dirname(dirname(prisma.bin))
  return [join(nodeModules, '@prisma', 'engines'), join(nodeModules, 'prisma', 'node_modules', '@prisma', 'engines')].some(dir =>
    existsSync(dir) && readdirSync(dir).some(name => /^schema-engine-/.test(name) && !/\.(gz|sha256)$/.test(name)))
}
