/** HubSpot as a source (contacts, deals as transactions) and a target (lists and a contact property). */
import { defineConnector } from '../../src/connector/contract.js';
import { checkHubspot } from './check.js';
import { hubspotChanges } from './changes.js';
import { hubspotSpec, type HubspotConfig, type HubspotTarget } from './config.js';
import { contactsStream, transactionsStream } from './streams.js';
import { hubspotWriter } from './writer.js';

export default defineConnector<HubspotConfig, HubspotTarget>({
  ...hubspotSpec,
  check: checkHubspot,
  streams: {
    contacts: contactsStream,
    transactions: transactionsStream,
  },
  writer: hubspotWriter,
  changes: hubspotChanges,
});
