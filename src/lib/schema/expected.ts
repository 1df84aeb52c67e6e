import {Attribute, Block, parsePrismaSchema, stringArg} from './prisma-file.js'

// What a release's code expects of the database: the tables, columns and enums its Prisma schema maps,
// read from the schema files at that release's commit (see source.ts).

export interface ExpectedColumn {
  field: string
  column: string
  // A Prisma scalar (String, Int...) or the name of an enum of the schema.
  type: string
  enum?: string
  required: boolean
  list: boolean
  // The column gets a value without the code naming it: @default, @updatedAt, or a database default.
  hasDefault: boolean
  // @db.VarChar(50) as {name: 'VarChar', args: ['50']}.
  native?: {name: string, args: string[]}
}

export interface ExpectedTable {
  model: string
  table: string
  schema?: string
  columns: ExpectedColumn[]
}

export interface ExpectedEnum {
  name: string
  dbName: string
  schema?: string
  // The values as stored (@map honoured).
  values: string[]
}

export interface ExpectedSchema {
  tables: ExpectedTable[]
  enums: ExpectedEnum[]
}

const SCALARS = new Set(['String', 'Int', 'BigInt', 'Float', 'Decimal', 'Boolean', 'DateTime', 'Json', 'Bytes'])

const find = (attributes: Attribute[], name: string) => attributes.find(a => a.name === name)
const mapped = (attributes: Attribute[], name: string) => stringArg(find(attributes, name)) ?? stringArg(find(attributes, name), 'name')

// Reads the schema files of one release (a schema may be split into several .prisma files).
export function expectedSchema(files: {path: string, text: string}[]): ExpectedSchema {
  const blocks = files.flatMap(file => {
    try {
      return parsePrismaSchema(file.text)
    } catch (error) {
      throw new Error(`${file.path} is not a Prisma schema this tool can read: ${(error as Error).message}`)
    }
  })
  const models = blocks.filter(b => b.kind === 'model')
  const modelNames = new Set(models.map(m => m.name))
  const enums: ExpectedEnum[] = blocks.filter(b => b.kind === 'enum').map(e => ({
    name: e.name,
    dbName: mapped(e.attributes, '@map') ?? e.name,
    schema: stringArg(find(e.attributes, '@schema')),
    values: e.members.map(v => mapped(v.attributes, 'map') ?? v.name),
  }))
  const enumNames = new Set(enums.map(e => e.name))

  const tables: ExpectedTable[] = models.map(model => {
    const columns = model.members.filter(f => SCALARS.has(f.type!) || enumNames.has(f.type!)).map(f => {
      const native = f.attributes.find(a => a.name.startsWith('db.'))
      return {
        field: f.name,
        column: mapped(f.attributes, 'map') ?? f.name,
        type: f.type!,
        enum: enumNames.has(f.type!) ? f.type : undefined,
        required: !f.optional,
        list: f.list,
        hasDefault: Boolean(find(f.attributes, 'default') || find(f.attributes, 'updatedAt')),
        native: native ? {name: native.name.slice(3), args: native.args} : undefined,
      }
    })
    return {model: model.name, table: mapped(model.attributes, '@map') ?? model.name, schema: stringArg(find(model.attributes, '@schema')), columns}
  })
  return {tables: [...tables, ...implicitManyToMany(models, modelNames, tables)], enums}
}

// A many-to-many relation without a relation model is a table Prisma names `_AToB` (or `_Name`), with
// columns A and B pointing at the two models' ids, A being the model first in alphabetical order.
function implicitManyToMany(models: Block[], modelNames: Set<string>, tables: ExpectedTable[]): ExpectedTable[] {
  const found = new Map<string, ExpectedTable>()
  const idOf = (modelName: string) => {
    const model = models.find(m => m.name === modelName)
    const id = model?.members.find(f => find(f.attributes, 'id'))?.name
    return tables.find(t => t.model === modelName)?.columns.find(c => c.field === id)
  }
  for (const model of models) {
    for (const field of model.members.filter(f => f.list && modelNames.has(f.type!))) {
      const other = models.find(m => m.name === field.type)!
      const back = other.members.find(f => f.type === model.name && f.list)
      const relation = find(field.attributes, 'relation')
      if (!back || relation?.args.some(a => /^fields\s*:/.test(a))) continue
      const [a, b] = [model.name, other.name].sort()
      const name = `_${stringArg(relation) ?? stringArg(relation, 'name') ?? `${a}To${b}`}`
      const column = (columnName: string, modelName: string): ExpectedColumn => ({
        field: columnName, column: columnName, type: idOf(modelName)?.type ?? 'Int', required: true, list: false, hasDefault: false, native: idOf(modelName)?.native,
      })
      found.set(name, {model: `${a}<->${b}`, table: name, schema: stringArg(find(model.attributes, '@schema')), columns: [column('A', a), column('B', b)]})
    }
  }
  return [...found.values()]
}
