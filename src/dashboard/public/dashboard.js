// The live studio dashboard: plain ES modules, no build step, only the public GraphQL API.
import uPlot from '/dashboard/vendor/uplot/uPlot.esm.js';
import { connectLive, personalDataRefused, query, TokenRefused } from './live.js';
import { dayOffset, hhmm, thisWeek, today, wallClock, zones } from './zone.js';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'gymgraph.dashboard.token';
const FEED_MAX = 200;
/** How long after a reconnection check-ins in the feed also re-read the occupancy count, in ms. */
const RESYNC_MS = 10_000;
const CUSTOMER_TYPES = /^(CUSTOMER_|CONTRACT_|AGGREGATOR_)/;

/** What an event type says, as the rest of a sentence whose subject is who it is about. */
const PHRASES = {
  CUSTOMER_CHECKIN: 'checked in',
  CUSTOMER_CHECKOUT: 'checked out',
  AUTOMATIC_CUSTOMER_CHECKOUT: 'checked customers out itself',
  CUSTOMER_CREATED: 'became a customer',
  CUSTOMER_UPDATED: 'had their data changed',
  CUSTOMER_DELETED: 'was deleted',
  CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED: 'changed communication preferences',
  CUSTOMER_ACCESS_DISABLED: 'had their access disabled',
  CUSTOMER_HOME_STUDIO_UPDATED: 'moved home studio',
  CUSTOMER_CHECKIN_STUDIOS_UPDATED: 'had their check-in studios changed',
  CUSTOMER_ACCESS_MEDIUM_CREATED: 'got an access card',
  CUSTOMER_ACCESS_MEDIUM_UPDATED: 'had an access card changed',
  CUSTOMER_ACCESS_MEDIUM_DELETED: 'had an access card removed',
  CUSTOMER_ACCESS_RESTRICTION_CREATED: 'had their access restricted',
  CUSTOMER_ACCESS_RESTRICTION_DELETED: 'had an access restriction lifted',
  CONTRACT_CREATED: 'signed a contract',
  CONTRACT_UPDATED: 'had a contract changed',
  CONTRACT_CANCELLED: 'cancelled a contract',
  CONTRACT_IDLE_PERIOD_CREATED: 'paused a contract',
  CONTRACT_IDLE_PERIOD_UPDATED: 'had a contract pause changed',
  CONTRACT_IDLE_PERIOD_CANCELLED: 'had a contract pause cancelled',
  CONTRACT_ADDITIONAL_MODULE_CREATED: 'added a contract module',
  CONTRACT_ADDITIONAL_MODULE_UPDATED: 'had a contract module changed',
  CONTRACT_ADDITIONAL_MODULE_DELETED: 'had a contract module deleted',
  CONTRACT_ADDITIONAL_MODULE_CANCELLED: 'cancelled a contract module',
  AGGREGATOR_MEMBER_CREATED: 'joined through an aggregator',
  CLASS_BOOKING_CREATED: 'booked a class',
  CLASS_BOOKING_UPDATED: 'class booking changed',
  CLASS_BOOKING_CANCELLED: 'class booking cancelled',
  APPOINTMENT_BOOKING_CREATED: 'booked an appointment',
  APPOINTMENT_BOOKING_UPDATED: 'appointment changed',
  APPOINTMENT_BOOKING_CANCELLED: 'appointment cancelled',
  CLASS_SLOT_UPDATED: 'class changed',
  CLASS_SLOT_CANCELLED: 'class cancelled',
  DEVICE_CREATED: 'device registered',
  FINANCE_DEBT_COLLECTION_RUN_CREATED: 'debt-collection run created',
  TAX_ADVISOR_EXPORT_CREATED: 'tax-advisor export created',
  STUDIO_OPENING_HOURS_UPDATED: 'opening hours changed',
  ADDITIONAL_INFORMATION_FIELDS_UPDATED: 'custom customer fields changed',
  FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED: 'debt-collection settings changed',
  FINANCE_DEBT_COLLECTION_CASE_UPDATED: 'debt-collection case changed',
  EMPLOYEE_CREATED: 'employee added',
  EMPLOYEE_UPDATED: 'employee changed',
  EMPLOYEE_DELETED: 'employee removed',
};

const EVENT_FIELDS = 'seq type entityId occurredAt studioId content';

/** Everything shown for the chosen studio; replaced whole when the studio or zone changes. */
let view;
let token = sessionStorage.getItem(TOKEN_KEY) ?? '';
let studios = [];
const names = new Map(); // customerId -> display name, once hydrated

function setState(state) {
  const el = $('state');
  el.textContent = state;
  el.dataset.state = state;
}

function askForToken(reason) {
  view?.stop();
  view = undefined;
  sessionStorage.removeItem(TOKEN_KEY);
  token = '';
  $('board').hidden = true;
  $('controls').hidden = true;
  $('login').hidden = false;
  $('login-reason').textContent = reason ?? '';
  $('token').value = '';
  $('token').focus();
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token').value.trim();
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  void begin();
});
$('signout').addEventListener('click', () => askForToken(''));

async function begin() {
  $('login').hidden = true;
  setState('connecting');
  try {
    const data = await query(token, '{ studios { id name timeZone } eventTypes { name } }');
    studios = data.studios;
    const select = $('studio');
    select.replaceChildren(...studios.map((s) => new Option(`${s.name} (#${s.id})`, s.id)));
    const wanted = new URLSearchParams(location.search).get('studio') ?? localStorage.getItem('gymgraph.dashboard.studio');
    if (wanted && studios.some((s) => s.id === wanted)) select.value = wanted;
    const types = $('feed-type');
    types.replaceChildren(new Option('All types', ''), ...data.eventTypes.map((t) => new Option(t.name, t.name)));
    if (studios.length === 0) {
      $('login-reason').textContent = 'This token sees no studio.';
      $('login').hidden = false;
      return;
    }
    $('controls').hidden = false;
    $('board').hidden = false;
    openStudio();
  } catch (error) {
    if (error instanceof TokenRefused) {
      setState('unauthorized');
      askForToken('The token was refused. Enter a valid token.');
    } else {
      setState('reconnecting');
      setTimeout(begin, 2000);
    }
  }
}

$('studio').addEventListener('change', () => {
  localStorage.setItem('gymgraph.dashboard.studio', $('studio').value);
  openStudio();
});
$('zone').addEventListener('change', () => {
  // A pick overrides the studio's own zone on this browser; picking the default again forgets it.
  const key = `gymgraph.dashboard.zone.${$('studio').value}`;
  if ($('zone').value === defaultZone(Number($('studio').value))) localStorage.removeItem(key);
  else localStorage.setItem(key, $('zone').value);
  openStudio();
});
$('feed-type').addEventListener('change', () => view?.renderFeed());

/** The studio's own zone (set with `npm run studio -- update <id> --time-zone …`), else the browser's. */
function defaultZone(studioId) {
  return studios.find((s) => Number(s.id) === studioId)?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
}

function openStudio() {
  const studioId = Number($('studio').value);
  const zone = localStorage.getItem(`gymgraph.dashboard.zone.${studioId}`) ?? defaultZone(studioId);
  const zoneSelect = $('zone');
  if (zoneSelect.options.length === 0) {
    const own = studios.map((s) => s.timeZone);
    zoneSelect.replaceChildren(...zones(Intl.DateTimeFormat().resolvedOptions().timeZone, ...own).map((z) => new Option(z, z)));
  }
  // A zone this browser's list lacks (an older alias the server's Intl knows) is offered all the same.
  if (![...zoneSelect.options].some((o) => o.value === zone)) zoneSelect.add(new Option(zone, zone));
  zoneSelect.value = zone;
  view?.stop();
  view = new StudioView(studioId, zone);
  void view.start();
}

/** One studio on screen: its queries, its subscriptions, its charts. */
class StudioView {
  constructor(studioId, zone) {
    this.studioId = studioId;
    this.zone = zone;
    this.events = []; // newest first
    this.lastSeq = undefined;
    this.curve = [[], []];
    this.timers = new Map();
    this.stopped = false;
    $('feed').replaceChildren();
    $('occupancy').textContent = '–';
    this.occupancyChart = chart($('occupancy-chart'), {
      scales: { x: { time: true } },
      axes: [axis({ values: '{HH}:{mm}' }), axis({})],
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), zone),
      series: [
        {},
        {
          label: 'people',
          stroke: '#5eead4',
          fill: 'rgba(94,234,212,.15)',
          width: 2,
          points: { show: false },
          paths: uPlot.paths.stepped({ align: 1 }),
        },
      ],
    });
    this.visitsChart = chart($('visits-chart'), {
      scales: { x: { time: false } },
      axes: [axis({ values: (_, ticks) => ticks.map((h) => `${h}h`) }), axis({})],
      series: [
        { label: 'hour' },
        { label: 'today', stroke: '#5eead4', fill: 'rgba(94,234,212,.55)', paths: uPlot.paths.bars({ size: [0.6, 40] }) },
        { label: '4-week average', stroke: '#fbbf24', width: 2, points: { show: true } },
      ],
    });
  }

  async start() {
    const day = today(this.zone);
    this.day = day;
    try {
      await Promise.all([this.loadFeed(), this.loadOccupancy(), this.loadVisits(), this.loadClasses(), this.loadContracts()]);
    } catch (error) {
      if (error instanceof TokenRefused) return this.refused();
      console.warn('dashboard: initial load failed', error);
    }
    if (this.stopped) return;
    let first = true;
    this.disconnect = connectLive({
      token,
      onState: (state) => (state === 'unauthorized' ? this.refused() : setState(state)),
      onConnected: () => {
        // occupancyChanged has no `after`: what changed while we were away is read again. Until the
        // new subscription is surely running, a check-in or check-out seen in the (resumed) feed
        // reads the count again too, so one that lands between the read and the subscription is not
        // lost. That holds for the first connection as well: the count was read before the socket
        // opened, and the server registers a subscription some time after it is sent.
        this.resyncUntil = Date.now() + RESYNC_MS;
        if (!first) this.refreshAll();
        first = false;
      },
      subscriptions: () => [
        {
          query: `subscription ($studio: ID!, $after: String) { events(studioIds: [$studio], after: $after) { ${EVENT_FIELDS} } }`,
          variables: { studio: this.studioId, after: this.lastSeq ?? '0' },
          next: (data) => this.onEvent(data.events, true),
        },
        {
          query: 'subscription ($studio: ID!) { occupancyChanged(studioId: $studio) { checkedIn } }',
          variables: { studio: this.studioId },
          next: (data) => this.showOccupancy(data.occupancyChanged.checkedIn, Date.now()),
        },
      ],
    });
    let ticks = 0;
    this.timers.set(
      'tick',
      setInterval(() => {
        if (today(this.zone).start !== this.day.start) return openStudio(); // a new local day
        this.later('classes', 0);
        this.later('contracts', 0);
        if (++ticks % 5 === 0) this.later('visits', 0);
      }, 60_000),
    );
  }

  stop() {
    this.stopped = true;
    this.disconnect?.();
    for (const t of this.timers.values()) clearTimeout(t);
    this.occupancyChart.destroy();
    this.visitsChart.destroy();
  }

  refused() {
    setState('unauthorized');
    askForToken('The token was refused or revoked. Enter a token again.');
  }

  q(source, variables) {
    return query(token, source, { studio: this.studioId, ...variables });
  }

  refreshAll() {
    for (const kind of ['occupancy', 'visits', 'classes', 'contracts']) this.later(kind, 0);
  }

  /** Re-reads one panel after `ms`, at most once per burst of events. */
  later(kind, ms = 400) {
    if (this.timers.has(kind) || this.stopped) return;
    this.timers.set(
      kind,
      setTimeout(() => {
        this.timers.delete(kind);
        const load = {
          occupancy: () => this.loadOccupancy(),
          visits: () => this.loadVisits(),
          classes: () => this.loadClasses(),
          contracts: () => this.loadContracts(),
          names: () => this.loadNames(),
        }[kind];
        load().catch((error) => (error instanceof TokenRefused ? this.refused() : console.warn(`dashboard: ${kind}`, error)));
      }, ms),
    );
  }

  // ---- live feed ----

  async loadFeed() {
    const data = await this.q(
      `query ($studio: ID!) { events(direction: DESC, first: 50, filter: { studioIds: [$studio] }) { nodes { ${EVENT_FIELDS} } } }`,
    );
    for (const event of data.events.nodes.reverse()) this.onEvent(event, false);
    this.renderFeed();
  }

  onEvent(event, live) {
    // Events come in seq order; one at or before the last seen is a replay we already have.
    if (this.stopped || (this.lastSeq !== undefined && Number(event.seq) <= Number(this.lastSeq))) return;
    this.lastSeq = event.seq;
    if (event.type.startsWith('GYMGRAPH_')) {
      // The service's own events (a record hydrated from the Open API): not news for the front desk,
      // but names, capacities and cancellations may just have arrived.
      const record = event.content?.record;
      if (record === 'customer') this.later('names', 1000);
      if (record === 'classSlot' || record === 'class') this.later('classes', 2000);
      return;
    }
    this.events.unshift(event);
    if (this.events.length > FEED_MAX) this.events.pop();
    if (CUSTOMER_TYPES.test(event.type) && !names.has(event.entityId)) this.later('names', 300);
    if (!live) return;
    const filter = $('feed-type').value;
    if (!filter || filter === event.type) {
      const li = this.line(event);
      li.classList.add('new');
      const feed = $('feed');
      feed.prepend(li);
      while (feed.children.length > FEED_MAX) feed.lastElementChild.remove();
    }
    // Re-reads cost query budget (src/api/limits.ts): the hourly counts move locally, the rest
    // is re-read at most once per burst.
    if (event.type === 'CUSTOMER_CHECKIN') this.countVisit(Date.parse(event.occurredAt));
    if (/^(AUTOMATIC_)?CUSTOMER_CHECK(IN|OUT)$/.test(event.type) && Date.now() < (this.resyncUntil ?? 0)) this.later('occupancy', 300);
    if (/^CLASS_/.test(event.type)) this.later('classes', 2000);
    if (/^CONTRACT_/.test(event.type)) this.later('contracts', 2000);
  }

  renderFeed() {
    const filter = $('feed-type').value;
    $('feed').replaceChildren(...this.events.filter((e) => !filter || e.type === filter).map((e) => this.line(e)));
  }

  line(event) {
    const li = document.createElement('li');
    li.dataset.seq = event.seq;
    li.dataset.type = event.type;
    const time = document.createElement('time');
    time.dateTime = event.occurredAt;
    time.textContent = hhmm(Date.parse(event.occurredAt), this.zone);
    const who = document.createElement('strong');
    who.className = 'who';
    who.dataset.customer = CUSTOMER_TYPES.test(event.type) ? event.entityId : '';
    who.textContent = subject(event);
    const what = document.createElement('span');
    what.className = 'what';
    what.textContent = ` ${PHRASES[event.type] ?? event.type}`;
    const where = document.createElement('span');
    where.className = 'where';
    where.textContent = ` at ${studios.find((s) => String(s.id) === String(event.studioId))?.name ?? `studio ${event.studioId}`}`;
    li.append(time, who, what, where);
    return li;
  }

  async loadNames() {
    if (personalDataRefused) return; // a partner token without personal data: ids it is
    const ids = [...new Set(this.events.filter((e) => CUSTOMER_TYPES.test(e.type) && !names.has(e.entityId)).map((e) => e.entityId))].slice(
      0,
      100,
    );
    if (ids.length === 0) return;
    const data = await this.q(
      'query ($ids: [ID!]) { customers(first: 100, filter: { customerIds: $ids }) { nodes { customerId firstName lastName } } }',
      { ids },
    );
    for (const c of data.customers.nodes) {
      const name = [c.firstName, c.lastName].filter(Boolean).join(' ');
      if (name) names.set(c.customerId, name);
    }
    for (const el of $('feed').querySelectorAll('strong.who[data-customer]')) {
      const name = names.get(el.dataset.customer);
      if (name) el.textContent = name;
    }
    // Not hydrated yet: ask again in a while (hydration runs shortly after the event).
    if (ids.some((id) => !names.has(id)) && !personalDataRefused) this.later('names', 15_000);
  }

  // ---- occupancy ----

  async loadOccupancy() {
    const day = this.day;
    const [now, log] = await Promise.all([
      this.q('query ($studio: ID!) { occupancy(studioIds: [$studio]) { total } }'),
      this.checkEvents(day),
    ]);
    // Today's curve, walked back from the count now: before a check-in one fewer, before a check-out one
    // more, before a studio's automatic check-out one more per customer it lists (stays that ran past
    // the maximum stay are not in the log: the curve keeps them until the next event).
    const points = [[Date.now() / 1000, now.occupancy.total]];
    let count = now.occupancy.total;
    for (const e of log.reverse()) {
      points.unshift([Date.parse(e.occurredAt) / 1000, count]);
      const out = e.type === 'AUTOMATIC_CUSTOMER_CHECKOUT' ? (e.content?.checkouts?.length ?? 0) : 1;
      count = Math.max(0, count + (e.type === 'CUSTOMER_CHECKIN' ? -1 : out));
    }
    points.unshift([day.start / 1000, count]);
    this.curve = [points.map((p) => p[0]), points.map((p) => p[1])];
    this.showOccupancy(now.occupancy.total, Date.now());
  }

  /** Today's check-ins and check-outs of the studio, oldest first (at most 1000). */
  async checkEvents(day) {
    const out = [];
    let after = null;
    for (let page = 0; page < 10; page++) {
      const data = await this.q(
        `query ($studio: ID!, $after: String, $from: DateTimeISO!, $to: DateTimeISO!) {
        events(first: 100, after: $after, filter: { studioIds: [$studio], types: ["CUSTOMER_CHECKIN", "CUSTOMER_CHECKOUT", "AUTOMATIC_CUSTOMER_CHECKOUT"], occurredAt: { from: $from, to: $to } }) {
          pageInfo { hasNextPage endCursor } nodes { type occurredAt content } } }`,
        { after, from: new Date(day.start).toISOString(), to: new Date(day.end).toISOString() },
      );
      out.push(...data.events.nodes);
      if (!data.events.pageInfo.hasNextPage) break;
      after = data.events.pageInfo.endCursor;
    }
    return out.sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
  }

  showOccupancy(total, at) {
    if (this.stopped) return;
    $('occupancy').textContent = String(total);
    const [xs, ys] = this.curve;
    xs.push(at / 1000);
    ys.push(total);
    this.occupancyChart.setData([xs, ys]);
  }

  // ---- visits per hour ----

  async loadVisits() {
    const ranges = [0, -7, -14, -21, -28].map((days) => dayOffset(this.zone, days));
    const fields = ranges.map(
      (r, i) =>
        `d${i}: visitStats(groupBy: HOUR, studioIds: [$studio], timeZone: $zone, range: { from: "${new Date(r.start).toISOString()}", to: "${new Date(r.end).toISOString()}" }) { label count }`,
    );
    const data = await this.q(`query ($studio: ID!, $zone: String!) { ${fields.join('\n')} }`, { zone: this.zone });
    const perHour = (buckets) => {
      const hours = new Array(24).fill(0);
      for (const b of buckets) hours[Number(b.label.slice(11, 13))] += b.count;
      return hours;
    };
    const todays = perHour(data.d0);
    const past = [1, 2, 3, 4].map((i) => perHour(data[`d${i}`]));
    const average = todays.map((_, h) => Math.round((past.reduce((sum, day) => sum + day[h], 0) / 4) * 10) / 10);
    const weekday = new Intl.DateTimeFormat('en', { weekday: 'long', timeZone: this.zone }).format(new Date());
    $('avg-label').textContent = `average of the last 4 ${weekday}s`;
    this.visits = { todays, average };
    this.drawVisits();
  }

  /** A live check-in: one more in its local hour, without a query. */
  countVisit(at) {
    if (!this.visits || at < this.day.start || at >= this.day.end) return;
    this.visits.todays[wallClock(at, this.zone).h] += 1;
    this.drawVisits();
  }

  drawVisits() {
    const { todays, average } = this.visits;
    const hour = wallClock(Date.now(), this.zone).h;
    this.visitsChart.setData([todays.map((_, h) => h), todays.map((n, h) => (h <= hour ? n : null)), average]);
  }

  // ---- classes ----

  async loadClasses() {
    const data = await this.q(
      `query ($studio: ID!, $from: DateTimeISO!, $to: DateTimeISO!) {
      classSlots(first: 100, filter: { studioIds: [$studio], startAt: { from: $from, to: $to } }) {
        nodes { slotId startAt status class { title } locationName bookedParticipants maxParticipants waitingListParticipants } } }`,
      { from: new Date(this.day.start).toISOString(), to: new Date(this.day.end).toISOString() },
    );
    const slots = data.classSlots.nodes.sort((a, b) => Date.parse(a.startAt) - Date.parse(b.startAt));
    $('classes').replaceChildren(
      ...slots.map((s) => {
        const tr = document.createElement('tr');
        tr.dataset.slot = s.slotId;
        if (s.status === 'CANCELLED') tr.className = 'cancelled';
        else if (s.maxParticipants && (s.bookedParticipants ?? 0) >= s.maxParticipants) tr.className = 'full';
        const cells = [
          hhmm(Date.parse(s.startAt), this.zone),
          `${s.class?.title ?? `Class slot ${s.slotId}`}${s.locationName ? ` · ${s.locationName}` : ''}`,
          `${s.bookedParticipants ?? '?'} / ${s.maxParticipants ?? '?'}`,
          String(s.waitingListParticipants ?? 0),
        ];
        tr.append(...cells.map((text) => Object.assign(document.createElement('td'), { textContent: text })));
        return tr;
      }),
    );
    $('classes-empty').hidden = slots.length > 0;
  }

  // ---- contracts ----

  async loadContracts() {
    const week = thisWeek(this.zone);
    const range = { from: new Date(week.start).toISOString(), to: new Date(week.end).toISOString() };
    // A cancellation is a calendar date (from hydration): the server counts it on the local day of that date.
    const data = await this.q(
      `query ($studio: ID!, $zone: String!, $range: TimeRangeInput!) {
      contractStats(range: $range, studioIds: [$studio], timeZone: $zone) { created cancelled } }`,
      { zone: this.zone, range },
    );
    $('contracts-created').textContent = String(data.contractStats.reduce((sum, b) => sum + b.created, 0));
    $('contracts-cancelled').textContent = String(data.contractStats.reduce((sum, b) => sum + b.cancelled, 0));
  }
}

function subject(event) {
  if (CUSTOMER_TYPES.test(event.type)) return names.get(event.entityId) ?? `Customer ${event.entityId}`;
  if (/BOOKING/.test(event.type)) return `Booking ${event.entityId}:`;
  if (/^CLASS_SLOT/.test(event.type)) return `Class slot ${event.entityId}:`;
  if (event.type === 'AUTOMATIC_CUSTOMER_CHECKOUT') return 'The studio';
  return `${event.entityId}:`;
}

const AXIS = { stroke: '#a3b1c6', grid: { stroke: '#25324a' }, ticks: { stroke: '#25324a' } };
function axis(extra) {
  return { ...AXIS, ...extra };
}

/** A uPlot chart that fills its container's width, resized with it. */
function chart(container, options) {
  container.replaceChildren();
  const size = () => ({ width: Math.max(200, container.clientWidth), height: container.clientWidth < 500 ? 160 : 220 });
  const plot = new uPlot(
    { ...size(), legend: { show: false }, axes: [axis({}), axis({})], ...options },
    [[], ...options.series.slice(1).map(() => [])],
    container,
  );
  const observer = new ResizeObserver(() => plot.setSize(size()));
  observer.observe(container);
  const destroy = plot.destroy.bind(plot);
  plot.destroy = () => {
    observer.disconnect();
    destroy();
  };
  return plot;
}

if (token) void begin();
else askForToken('');
