import { createdRecordResolver } from '../created-record.resolver.js';
import { Device } from './device.entity.js';

/** `device(id)`, `devices(filter, orderBy)` and `Device.studio`. */
export const DeviceResolver = createdRecordResolver(Device, {
  typeName: 'Device',
  noun: 'device',
  nouns: 'devices',
  one: 'device',
  many: 'devices',
  idField: 'deviceId',
  idOrderName: 'DEVICE_ID',
  createdBy: 'DEVICE_CREATED',
  alias: 'device',
});
