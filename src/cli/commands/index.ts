import type { Command } from '../args';
import { calibrateCommand } from './calibrate';
import { classifyCommand } from './classify';
import { mergeCommand } from './merge';
import { modelsCommand } from './models';
import { serveCommand } from './serve';

export type { Command };

export const COMMANDS: Command[] = [serveCommand, classifyCommand, mergeCommand, calibrateCommand, modelsCommand];
