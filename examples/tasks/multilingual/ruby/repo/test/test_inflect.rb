# frozen_string_literal: true

require 'minitest/autorun'
require 'shoulda-context'
require 'inflect'

class TestInflect < Minitest::Test
  context 'pluralize' do
    should 'add s to plain words' do
      assert_equal 'books', Inflect.pluralize('book')
      assert_equal 'cats', Inflect.pluralize('cat')
    end

    should 'add es after a sibilant' do
      assert_equal 'boxes', Inflect.pluralize('box')
      assert_equal 'churches', Inflect.pluralize('church')
    end

    should 'turn a final y after a consonant into ies' do
      assert_equal 'cities', Inflect.pluralize('city')
    end

    should 'refuse an empty word' do
      assert_raises(ArgumentError) { Inflect.pluralize('') }
    end
  end
end
