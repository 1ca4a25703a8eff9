// The PouchDB peer of benchmarks/sync_ingest.py: express-pouchdb (the CouchDB replication
// protocol PouchDB clients sync with) over pouchdb-node (LevelDB on disk), on loopback only.
//
//   node server.js <data dir> <port>
//
// Every database lives in <data dir>; express-pouchdb's own log goes to <data dir>/log.txt.
'use strict';

const path = require('path');
const express = require('express');
const PouchDB = require('pouchdb-node');

const dataDir = process.argv[2];
const port = Number(process.argv[3]);
if (!dataDir || !Number.isInteger(port) || port <= 0) {
  console.error('usage: node server.js <data dir> <port>');
  process.exit(2);
}

const prefix = dataDir.endsWith(path.sep) ? dataDir : dataDir + path.sep;
const Pouch = PouchDB.defaults({ prefix });
const app = express();
app.use(
  '/',
  require('express-pouchdb')(Pouch, {
    mode: 'minimumForPouchDB',
    logPath: path.join(dataDir, 'log.txt'),
  }),
);
app.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));
