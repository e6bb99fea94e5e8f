// The calendar (day numbers, Dutch working days) lives in domain/: the indicators count working days too.
export * from '../domain/calendar.js';
