import assert from 'node:assert/strict'
import {expectedSchema} from '../../src/lib/schema/expected.js'
import {parsePrismaSchema} from '../../src/lib/schema/prisma-file.js'

const SCHEMA = `
// A comment with a { brace
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

enum Role {
  USER
  ADMIN @map("admin") // mapped
  @@map("role_t")
  @@schema("auth")
}

model Account {
  id        String   @id @default(uuid()) @db.Uuid
  email     String   @unique @map(name: "e_mail")
  note      String?  @default("a // not a comment, and a } brace")
  role      Role     @default(USER)
  tags      String[]
  search    Unsupported("tsvector")?
  updatedAt DateTime @updatedAt
  posts     Post[]
  groups    Group[]  @relation("members")

  @@map("accounts")
  @@schema("auth")
  @@index([email, role], map: "by_email")
}

model Group {
  id      Int       @id
  members Account[] @relation("members")
}

model Post {
  id       Int     @id
  author   Account @relation(fields: [authorId], references: [id], onDelete: Cascade)
  authorId String  @db.Uuid
}
`

describe('reading a Prisma schema', () => {
  it('reads blocks, fields with optional and list markers, and attributes with their arguments; comments are not read', () => {
    const blocks = parsePrismaSchema(SCHEMA)
    assert.deepEqual(blocks.map(b => `${b.kind} ${b.name}`), ['enum Role', 'model Account', 'model Group', 'model Post'])
    const account = blocks[1]
    const note = account.members.find(m => m.name === 'note')!
    assert.deepEqual(note.attributes, [{name: 'default', args: ['"a // not a comment, and a } brace"']}])
    assert.equal(note.optional, true)
    assert.deepEqual(account.members.find(m => m.name === 'search'), {name: 'search', type: 'Unsupported("tsvector")', list: false, optional: true, attributes: []})
    assert.deepEqual(account.members.find(m => m.name === 'id')!.attributes.map(a => a.name), ['id', 'default', 'db.Uuid'])
    assert.deepEqual(account.attributes.find(a => a.name === '@index')!.args, ['[email, role]', 'map: "by_email"'])
  })

  it('maps models, fields and enums to tables, columns and values as Prisma does', () => {
    const {tables, enums} = expectedSchema([{path: 'schema.prisma', text: SCHEMA}])
    assert.deepEqual(enums, [{name: 'Role', dbName: 'role_t', schema: 'auth', values: ['USER', 'admin']}])
    const account = tables.find(t => t.model === 'Account')!
    assert.equal(account.table, 'accounts')
    assert.equal(account.schema, 'auth')
    assert.deepEqual(account.columns.map(c => `${c.column}:${c.type}${c.list ? '[]' : ''}${c.required ? '' : '?'}${c.hasDefault ? '=' : ''}`),
      ['id:String=', 'e_mail:String', 'note:String?=', 'role:Role=', 'tags:String[]', 'updatedAt:DateTime='])
    assert.deepEqual(account.columns[0].native, {name: 'Uuid', args: []})
    const members = tables.find(t => t.table === '_members')!
    assert.deepEqual(members.columns.map(c => `${c.column}:${c.type}`), ['A:String', 'B:Int'])
    assert.equal(tables.find(t => t.model === 'Post')!.columns.some(c => c.field === 'author'), false, 'a relation field is not a column')
  })

  it('says which block is not closed', () => {
    assert.throws(() => expectedSchema([{path: 'broken.prisma', text: 'model A {\n  id Int @id\n'}]), /broken.prisma is not a Prisma schema this tool can read: the block model A is not closed/)
  })
})
