/**
 * Every configuration key: the shared ones from core, plus those each job type declares beside
 * its code. Loading this module declares them all (the handler registry loads it), so a Config
 * can read any key and `dump()` lists them all.
 */
import { declaredParams } from '../core/config.js';
import './cmd/config.js';
import './dag/config.js';
import './docker/config.js';
import './db-from-s3/config.js';
import './exe/config.js';
import './foreach/config.js';
import './lavasched/config.js';
import './pkg/config.js';
import './smb/config.js';
import './sharepoint/config.js';
import './sql/config.js';
import './sqlc/config.js';
import './sqlv/config.js';
import '../events/trigger-config.js';

/** Every configuration parameter, with its default and a line of documentation. */
export const CONFIG_PARAMS = declaredParams();
