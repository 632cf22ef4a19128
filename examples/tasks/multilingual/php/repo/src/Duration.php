<?php

declare(strict_types=1);

namespace Clockwork;

/**
 * Formats a number of seconds as a short human duration: "45s", "2m 5s",
 * "1h 2m 3s". Units that are zero are left out; zero seconds is "0s".
 */
final class Duration
{
    private const UNITS = ['h' => 3600, 'm' => 60, 's' => 1];

    public static function format(int $seconds): string
    {
        if ($seconds < 0) {
            throw new \InvalidArgumentException('negative duration');
        }
        $parts = [];
        foreach (self::UNITS as $suffix => $size) {
            $count = intdiv($seconds, $size);
            $seconds %= $size;
            if ($count > 0) {
                $parts[] = $count . $suffix;
            }
        }
        return implode(' ', $parts);
    }
}
