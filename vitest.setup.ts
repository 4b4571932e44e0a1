// tsyringe needs the Reflect metadata API before any container is touched.
import 'reflect-metadata';
