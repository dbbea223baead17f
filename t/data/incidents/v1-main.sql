-- An incident database (schema 1) written by dnswarden's main branch before domain
-- blocks (a worm verdict and block, a block and unblock by hand), as sqlite3 .dump
-- prints it; .dump leaves out PRAGMA user_version, which the module set to 1.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES('created','1796213228');
INSERT INTO meta VALUES('uuid','f5e1bfed58e75da5eb94b3d9a62a7746');
INSERT INTO meta VALUES('host','vm');
INSERT INTO meta VALUES('schema','1');
CREATE TABLE incidents ( id INTEGER PRIMARY KEY, time INTEGER NOT NULL, event TEXT NOT NULL, client TEXT NOT NULL, prefix INTEGER NOT NULL, addr BLOB NOT NULL, detector TEXT, action TEXT, duration INTEGER, step INTEGER, mode TEXT NOT NULL, backend TEXT NOT NULL, uid INTEGER, country TEXT, asn INTEGER, evidence TEXT NOT NULL);
INSERT INTO incidents VALUES(1,1796213228,'verdict','127.184.1.1',32,X'00000000000000000000ffff7fb80101','mx_worm','nxdomain',3600,NULL,'enforce','rpz',NULL,NULL,NULL,'{"count":10,"threshold":10,"window":600,"first_seen":"2026-12-02T12:07:09Z","counters":{"mx_600s":10,"ptr_600s":0,"keyword_3600s":0,"ip_literal_3600s":0,"ptr_60s":0,"ptr_forward_600s":0},"evidence_window":3600,"classes":{"a":0,"aaaa":0,"mx":16,"ptr":0,"other":0},"names":["d126701.victim.lab.","d207757.victim.lab.","d878130.victim.lab.","d794847.victim.lab.","d143739.victim.lab.","d966358.victim.lab.","d253695.victim.lab.","d842222.victim.lab."]}');
INSERT INTO incidents VALUES(2,1796213228,'block','127.184.1.1',32,X'00000000000000000000ffff7fb80101','mx_worm','nxdomain',3600,1,'enforce','rpz',NULL,NULL,NULL,'{"by":"detector:mx_worm","offences":1,"expires":"2026-12-02T13:07:09Z"}');
INSERT INTO incidents VALUES(3,1796213229,'block','127.184.1.7',32,X'00000000000000000000ffff7fb80107',NULL,'nodata',3600,1,'enforce','rpz',0,NULL,NULL,'{"by":"control:uid=0","offences":1,"expires":"2026-12-02T13:07:09Z"}');
INSERT INTO incidents VALUES(4,1796213229,'unblock','127.184.1.7',32,X'00000000000000000000ffff7fb80107',NULL,'nodata',3600,1,'enforce','rpz',0,NULL,NULL,'{"by":"control:uid=0","since":"2026-12-02T12:07:09Z","reason":"manual"}');
CREATE INDEX incidents_time ON incidents(time);
CREATE INDEX incidents_addr ON incidents(addr, id);
COMMIT;
PRAGMA user_version=1;
