import { ortWebRunner } from './peers/ort-web.mjs';

export default ortWebRunner(1);
