<?php

declare(strict_types=1);

namespace Clockwork\Tests;

use Clockwork\Duration;
use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/../src/Duration.php';

final class DurationTest extends TestCase
{
    public function testSecondsOnly(): void
    {
        $this->assertSame('45s', Duration::format(45));
    }

    public function testMinutesAndSeconds(): void
    {
        $this->assertSame('2m 5s', Duration::format(125));
    }

    public function testSkipsZeroUnits(): void
    {
        $this->assertSame('1h 3s', Duration::format(3603));
    }

    public function testRejectsNegative(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        Duration::format(-1);
    }
}
